/** The OpenAI-compatible chat completions API (`POST /v1/chat/completions`), streaming and not, as OpenCode calls it. */
import { isJsonObject, type JsonObject } from "../../agent-kit/json-fields.ts";
import {
  contentText,
  halves,
  outputTokens,
  replyId,
  textDeltas,
  type ContentReply,
  type ParsedRequest,
  type RenderedStream,
  type ReplyContext,
  type WireFormat,
} from "./wire.ts";

function readRequest(body: JsonObject): ParsedRequest {
  const messages = Array.isArray(body.messages) ? body.messages.filter(isJsonObject) : [];
  const last = messages.at(-1);
  const toolNames =
    body.tool_choice === "none" || !Array.isArray(body.tools)
      ? []
      : body.tools.filter(isJsonObject).flatMap((tool) => (isJsonObject(tool.function) && typeof tool.function.name === "string" ? [tool.function.name] : []));
  return {
    model: typeof body.model === "string" ? body.model : null,
    stream: body.stream === true,
    messageCount: messages.length,
    conversation: {
      toolNames,
      endsWithToolResult: last?.role === "tool",
      lastText: contentText(last?.content),
    },
  };
}

function finishReason(reply: ContentReply): string {
  return reply.kind === "tool" ? "tool_calls" : "stop";
}

function usage(reply: ContentReply, context: ReplyContext): JsonObject {
  const completion = outputTokens(reply);
  return { prompt_tokens: context.inputTokens, completion_tokens: completion, total_tokens: context.inputTokens + completion };
}

function replyText(reply: ContentReply): string {
  return reply.kind === "text" ? reply.text : reply.kind === "tool" ? reply.preamble : "";
}

function renderStream(reply: ContentReply, context: ReplyContext): RenderedStream {
  const id = replyId("chatcmpl-");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: JsonObject[], extra: JsonObject = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: context.model, choices, ...extra })}\n\n`;
  const delta = (value: JsonObject, finish: string | null = null) => chunk([{ index: 0, delta: value, finish_reason: finish }]);

  const frames = [delta({ role: "assistant", content: "" })];
  const texts = textDeltas(replyText(reply));
  const firstDeltaIndex = texts.length > 0 ? frames.length : -1;
  for (const content of texts) frames.push(delta({ content }));
  if (reply.kind === "tool") {
    const [head = "", tail = ""] = halves(JSON.stringify(reply.input));
    frames.push(
      delta({ tool_calls: [{ index: 0, id: replyId("call_"), type: "function", function: { name: reply.toolName, arguments: head } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: tail } }] }),
    );
  }
  frames.push(delta({}, finishReason(reply)), chunk([], { usage: usage(reply, context) }), "data: [DONE]\n\n");
  return { frames, firstDeltaIndex: firstDeltaIndex < 0 ? frames.length - 1 : firstDeltaIndex };
}

function renderJson(reply: ContentReply, context: ReplyContext): JsonObject {
  const message: JsonObject = { role: "assistant", content: replyText(reply) || null };
  if (reply.kind === "tool") {
    message.tool_calls = [{ id: replyId("call_"), type: "function", function: { name: reply.toolName, arguments: JSON.stringify(reply.input) } }];
  }
  return {
    id: replyId("chatcmpl-"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: context.model,
    choices: [{ index: 0, message, finish_reason: finishReason(reply) }],
    usage: usage(reply, context),
  };
}

export const openAiChatCompletions: WireFormat = {
  readRequest,
  renderStream,
  renderJson,
  renderError: (reply) => ({ error: { message: reply.message, type: reply.errorType, code: reply.errorType } }),
};
