/**
 * The Gemini API (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse` and `:generateContent`), as Gemini CLI
 * calls it: the model and whether to stream are in the path, not the body; a tool result comes back as a
 * `functionResponse` part.
 */
import { isJsonObject, type JsonObject } from "../../agent-kit/json-fields.ts";
import type { ApiErrorReply } from "./scenario.ts";
import {
  contentText,
  outputTokens,
  type ContentReply,
  type ParsedRequest,
  type RenderedStream,
  type ReplyContext,
  type WireFormat,
} from "./wire.ts";

/** `/v1beta/models/<model>:<method>`, the Gemini API's model endpoints. */
export const GEMINI_MODEL_ENDPOINT = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;

function partsOf(content: unknown): JsonObject[] {
  return isJsonObject(content) && Array.isArray(content.parts) ? content.parts.filter(isJsonObject) : [];
}

function offeredToolNames(body: JsonObject): string[] {
  if (isJsonObject(body.toolConfig) && isJsonObject(body.toolConfig.functionCallingConfig) && body.toolConfig.functionCallingConfig.mode === "NONE") {
    return [];
  }
  const declarations = (Array.isArray(body.tools) ? body.tools.filter(isJsonObject) : []).flatMap((tool) =>
    Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations.filter(isJsonObject) : [],
  );
  return declarations.flatMap((declaration) => (typeof declaration.name === "string" ? [declaration.name] : []));
}

/** Gemini's `finishReason` and usage are on the last chunk; a tool call also ends with `STOP`. */
function usageMetadata(reply: ContentReply, context: ReplyContext): JsonObject {
  const candidates = outputTokens(reply);
  return {
    promptTokenCount: context.inputTokens,
    ...(candidates > 0 ? { candidatesTokenCount: candidates } : {}),
    totalTokenCount: context.inputTokens + candidates,
  };
}

function candidate(parts: JsonObject[], finished: boolean): JsonObject {
  return { content: { role: "model", parts }, index: 0, ...(finished ? { finishReason: "STOP" } : {}) };
}

function replyParts(reply: ContentReply): JsonObject[] {
  switch (reply.kind) {
    case "empty":
      return [];
    case "text":
      return [{ text: reply.text }];
    case "tool":
      return [{ text: reply.preamble }, { functionCall: { name: reply.toolName, args: reply.input } }];
  }
}

/** The Gemini API's `status` for an HTTP error code. */
function errorStatus(code: number): string {
  if (code === 401) return "UNAUTHENTICATED";
  if (code === 403) return "PERMISSION_DENIED";
  if (code === 429) return "RESOURCE_EXHAUSTED";
  if (code === 503 || code === 529) return "UNAVAILABLE";
  return "INTERNAL";
}

function readRequest(body: JsonObject, endpoint: string): ParsedRequest {
  const [, model = null, method = null] = GEMINI_MODEL_ENDPOINT.exec(endpoint) ?? [];
  const contents = Array.isArray(body.contents) ? body.contents.filter(isJsonObject) : [];
  const last = contents.at(-1);
  return {
    model,
    stream: method === "streamGenerateContent",
    messageCount: contents.length,
    conversation: {
      toolNames: offeredToolNames(body),
      endsWithToolResult: partsOf(last).some((part) => isJsonObject(part.functionResponse)),
      lastText: contentText(partsOf(last)),
    },
  };
}

/**
 * One chunk per text part, then the function call with `finishReason` and usage. The Gemini API streams chunks of
 * many tokens, so a short text arrives whole; Gemini CLI prints each chunk as an assistant message of its own, which
 * Paperclip's summary joins with blank lines.
 */
function renderStream(reply: ContentReply, context: ReplyContext): RenderedStream {
  const frame = (chunk: JsonObject) => `data: ${JSON.stringify({ ...chunk, modelVersion: context.model })}\r\n\r\n`;
  const parts = replyParts(reply);
  const texts = parts.flatMap((part) => (typeof part.text === "string" ? [part.text] : []));
  const frames = texts.map((text) => frame({ candidates: [candidate([{ text }], false)] }));
  const calls = parts.filter((part) => part.functionCall !== undefined);
  frames.push(frame({ candidates: [candidate(calls, true)], usageMetadata: usageMetadata(reply, context) }));
  return { frames, firstDeltaIndex: texts.length > 0 ? 0 : frames.length - 1 };
}

/** `:streamGenerateContent` streams (`alt=sse`), `:generateContent` answers whole (the CLI's routing and JSON requests). */
export const geminiGenerateContent: WireFormat = {
  readRequest,
  renderStream,
  renderJson: (reply, context) => ({
    candidates: [candidate(replyParts(reply), true)],
    usageMetadata: usageMetadata(reply, context),
    modelVersion: context.model,
  }),
  renderError: (reply: ApiErrorReply) => ({ error: { code: reply.status, message: reply.message, status: errorStatus(reply.status) } }),
};
