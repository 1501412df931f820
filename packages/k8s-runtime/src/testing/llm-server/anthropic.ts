/** The Anthropic Messages API (`POST /v1/messages`), streaming and not, as Claude Code calls it. */
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
  const lastContent = last?.content;
  const endsWithToolResult =
    last?.role === "user" && Array.isArray(lastContent) && lastContent.some((block) => isJsonObject(block) && block.type === "tool_result");
  const toolsForbidden = isJsonObject(body.tool_choice) && body.tool_choice.type === "none";
  const toolNames = toolsForbidden || !Array.isArray(body.tools) ? [] : body.tools.filter(isJsonObject).flatMap((tool) => (typeof tool.name === "string" ? [tool.name] : []));
  return {
    model: typeof body.model === "string" ? body.model : null,
    stream: body.stream === true,
    messageCount: messages.length,
    conversation: {
      toolNames,
      endsWithToolResult,
      lastText: contentText(lastContent),
    },
  };
}

type Block = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: JsonObject };

function contentBlocks(reply: ContentReply): Block[] {
  switch (reply.kind) {
    case "empty":
      return [];
    case "text":
      return [{ type: "text", text: reply.text }];
    case "tool":
      return [
        { type: "text", text: reply.preamble },
        { type: "tool_use", id: replyId("toolu_"), name: reply.toolName, input: reply.input },
      ];
  }
}

function usage(context: ReplyContext, output: number): JsonObject {
  return { input_tokens: context.inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output };
}

function stopReason(reply: ContentReply): string {
  return reply.kind === "tool" ? "tool_use" : "end_turn";
}

function frame(event: JsonObject & { type: string }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function renderStream(reply: ContentReply, context: ReplyContext): RenderedStream {
  const frames = [
    frame({
      type: "message_start",
      message: {
        id: replyId("msg_"),
        type: "message",
        role: "assistant",
        model: context.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(context, 1),
      },
    }),
  ];
  let firstDeltaIndex = -1;
  contentBlocks(reply).forEach((block, index) => {
    if (block.type === "text") {
      frames.push(frame({ type: "content_block_start", index, content_block: { type: "text", text: "" } }));
      for (const text of textDeltas(block.text)) {
        if (firstDeltaIndex < 0) firstDeltaIndex = frames.length;
        frames.push(frame({ type: "content_block_delta", index, delta: { type: "text_delta", text } }));
      }
    } else {
      frames.push(frame({ type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }));
      for (const partial_json of halves(JSON.stringify(block.input))) {
        frames.push(frame({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } }));
      }
    }
    frames.push(frame({ type: "content_block_stop", index }));
  });
  frames.push(
    frame({ type: "message_delta", delta: { stop_reason: stopReason(reply), stop_sequence: null }, usage: { output_tokens: outputTokens(reply) } }),
    frame({ type: "message_stop" }),
  );
  return { frames, firstDeltaIndex: firstDeltaIndex < 0 ? frames.length - 1 : firstDeltaIndex };
}

function renderJson(reply: ContentReply, context: ReplyContext): JsonObject {
  return {
    id: replyId("msg_"),
    type: "message",
    role: "assistant",
    model: context.model,
    content: contentBlocks(reply),
    stop_reason: stopReason(reply),
    stop_sequence: null,
    usage: usage(context, outputTokens(reply)),
  };
}

export const anthropicMessages: WireFormat = {
  readRequest,
  renderStream,
  renderJson,
  renderError: (reply) => ({ type: "error", error: { type: reply.errorType, message: reply.message } }),
};
