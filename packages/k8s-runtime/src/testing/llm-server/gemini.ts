/**
 * The Gemini API (`POST /v1beta/models/<model>:streamGenerateContent?alt=sse` and `:generateContent`), as Gemini CLI
 * calls it: the model and whether to stream are in the URL, not the body; a tool result comes back as a
 * `functionResponse` part.
 */
import { isJsonObject, type JsonObject } from "../../agent-kit/json-fields.ts";
import type { ApiErrorReply, OfferedTool } from "./scenario.ts";
import {
  contentText,
  offeredTool,
  outputTokens,
  textDeltas,
  type ContentReply,
  type ParsedRequest,
  type RenderedStream,
  type ReplyContext,
  type WireFormat,
} from "./wire.ts";

/** `/v1beta/models/<model>:<method>`, the Gemini API's model endpoints. */
export const GEMINI_MODEL_ENDPOINT = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

function partsOf(content: unknown): JsonObject[] {
  return isJsonObject(content) && Array.isArray(content.parts) ? content.parts.filter(isJsonObject) : [];
}

function offeredTools(body: JsonObject): OfferedTool[] {
  if (isJsonObject(body.toolConfig) && isJsonObject(body.toolConfig.functionCallingConfig) && body.toolConfig.functionCallingConfig.mode === "NONE") {
    return [];
  }
  const declarations = (Array.isArray(body.tools) ? body.tools.filter(isJsonObject) : []).flatMap((tool) =>
    Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations.filter(isJsonObject) : [],
  );
  return declarations
    .map((declaration) => offeredTool(declaration.name, declaration.parametersJsonSchema ?? declaration.parameters))
    .filter((tool): tool is OfferedTool => tool !== null);
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

/** The wire format of one model endpoint: `stream` is true for `:streamGenerateContent`. */
export function geminiGenerateContent(model: string, stream: boolean): WireFormat {
  function readRequest(body: JsonObject): ParsedRequest {
    const contents = Array.isArray(body.contents) ? body.contents.filter(isJsonObject) : [];
    const last = contents.at(-1);
    return {
      model,
      stream,
      messageCount: contents.length,
      conversation: {
        tools: offeredTools(body),
        endsWithToolResult: partsOf(last).some((part) => isJsonObject(part.functionResponse)),
        lastText: contentText(partsOf(last)),
      },
    };
  }

  function renderStream(reply: ContentReply, context: ReplyContext): RenderedStream {
    const frame = (chunk: JsonObject) => `data: ${JSON.stringify({ ...chunk, modelVersion: context.model })}\r\n\r\n`;
    const parts = replyParts(reply);
    const texts = parts.flatMap((part) => (typeof part.text === "string" ? textDeltas(part.text) : []));
    const frames = texts.map((text) => frame({ candidates: [candidate([{ text }], false)] }));
    const calls = parts.filter((part) => part.functionCall !== undefined);
    frames.push(frame({ candidates: [candidate(calls, true)], usageMetadata: usageMetadata(reply, context) }));
    return { frames, firstDeltaIndex: texts.length > 0 ? 0 : frames.length - 1 };
  }

  return {
    readRequest,
    renderStream,
    renderJson: (reply, context) => ({
      candidates: [candidate(replyParts(reply), true)],
      usageMetadata: usageMetadata(reply, context),
      modelVersion: context.model,
    }),
    renderError: (reply: ApiErrorReply) => ({ error: { code: reply.status, message: reply.message, status: errorStatus(reply.status) } }),
  };
}
