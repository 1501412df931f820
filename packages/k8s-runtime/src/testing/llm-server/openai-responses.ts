/**
 * The OpenAI Responses API (`POST /v1/responses`), streaming and not, as Codex calls it. Requests are checked
 * for the shape the API requires (a `model`, an `input` list of typed items, function tools with a name and a
 * schema, every tool result answering a call made earlier in `input`), so a client that sends something else
 * gets a 400 naming the problem instead of a scripted reply.
 */
import { isJsonObject, type JsonObject } from "../../agent-kit/json-fields.ts";
import {
  contentText,
  halves,
  InvalidRequestError,
  outputTokens,
  replyId,
  textDeltas,
  type ContentReply,
  type ParsedRequest,
  type RenderedStream,
  type ReplyContext,
  type WireFormat,
} from "./wire.ts";

function checkedItems(body: JsonObject): JsonObject[] {
  if (typeof body.model !== "string" || body.model === "") throw new InvalidRequestError("model must be a non-empty string");
  if (body.stream !== undefined && typeof body.stream !== "boolean") throw new InvalidRequestError("stream must be a boolean");
  if (!Array.isArray(body.input)) throw new InvalidRequestError("input must be a list of items");
  const calls = new Set<string>();
  return body.input.map((item, index) => {
    if (!isJsonObject(item) || typeof item.type !== "string") throw new InvalidRequestError(`input[${index}] must be an object with a type`);
    if (item.type === "message" && typeof item.role !== "string") throw new InvalidRequestError(`input[${index}] is a message without a role`);
    if (item.type === "function_call") {
      if (typeof item.call_id !== "string" || typeof item.name !== "string" || typeof item.arguments !== "string") {
        throw new InvalidRequestError(`input[${index}] is a function_call without call_id, name and arguments (a string)`);
      }
      calls.add(item.call_id);
    }
    if (item.type === "function_call_output" && (typeof item.call_id !== "string" || !calls.has(item.call_id))) {
      throw new InvalidRequestError(`input[${index}] is a function_call_output whose call_id answers no earlier function_call`);
    }
    return item;
  });
}

/** Names of the function tools the model may call now (none when `tool_choice` is `none`). */
function offeredToolNames(body: JsonObject): string[] {
  if (body.tools === undefined) return [];
  if (!Array.isArray(body.tools)) throw new InvalidRequestError("tools must be a list");
  const names = body.tools.flatMap((tool, index) => {
    if (!isJsonObject(tool) || typeof tool.type !== "string") throw new InvalidRequestError(`tools[${index}] must be an object with a type`);
    if (tool.type !== "function") return [];
    if (typeof tool.name !== "string" || !isJsonObject(tool.parameters)) {
      throw new InvalidRequestError(`tools[${index}] is a function tool without a name and a parameters schema`);
    }
    return [tool.name];
  });
  return body.tool_choice === "none" ? [] : names;
}

function readRequest(body: JsonObject): ParsedRequest {
  const items = checkedItems(body);
  const last = items.at(-1);
  return {
    model: typeof body.model === "string" ? body.model : null,
    stream: body.stream === true,
    messageCount: items.length,
    conversation: {
      toolNames: offeredToolNames(body),
      endsWithToolResult: last?.type === "function_call_output",
      lastText: contentText(last?.content),
    },
  };
}

/** The output items of a reply, complete, as `response.output_item.done` and the final response carry them. */
function outputItems(reply: ContentReply): JsonObject[] {
  const message = (text: string): JsonObject => ({
    id: replyId("msg_"),
    type: "message",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  });
  switch (reply.kind) {
    case "empty":
      return [];
    case "text":
      return [message(reply.text)];
    case "tool":
      return [
        message(reply.preamble),
        { id: replyId("fc_"), type: "function_call", status: "completed", call_id: replyId("call_"), name: reply.toolName, arguments: JSON.stringify(reply.input) },
      ];
  }
}

function usage(reply: ContentReply, context: ReplyContext): JsonObject {
  const output = outputTokens(reply);
  return {
    input_tokens: context.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: context.inputTokens + output,
  };
}

function response(id: string, context: ReplyContext, status: string, output: JsonObject[], usageValue: JsonObject | null): JsonObject {
  return { id, object: "response", created_at: Math.floor(Date.now() / 1000), status, model: context.model, output, usage: usageValue };
}

/** An item as `response.output_item.added` announces it: in progress, its text or arguments still empty. */
function started(item: JsonObject): JsonObject {
  if (item.type === "function_call") return { ...item, status: "in_progress", arguments: "" };
  return { ...item, status: "in_progress", content: [] };
}

function itemText(item: JsonObject): string {
  return contentText(item.content);
}

function renderStream(reply: ContentReply, context: ReplyContext): RenderedStream {
  const id = replyId("resp_");
  let sequence = 0;
  const event = (type: string, fields: JsonObject): string =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  const items = outputItems(reply);
  const frames = [event("response.created", { response: response(id, context, "in_progress", [], null) })];
  let firstDeltaIndex = -1;
  items.forEach((item, outputIndex) => {
    const itemId = String(item.id);
    frames.push(event("response.output_item.added", { output_index: outputIndex, item: started(item) }));
    if (item.type === "message") {
      const text = itemText(item);
      const part = { output_index: outputIndex, item_id: itemId, content_index: 0 };
      frames.push(event("response.content_part.added", { ...part, part: { type: "output_text", text: "", annotations: [] } }));
      for (const delta of textDeltas(text)) {
        if (firstDeltaIndex < 0) firstDeltaIndex = frames.length;
        frames.push(event("response.output_text.delta", { ...part, delta }));
      }
      frames.push(
        event("response.output_text.done", { ...part, text }),
        event("response.content_part.done", { ...part, part: { type: "output_text", text, annotations: [] } }),
      );
    } else {
      const argumentsText = String(item.arguments);
      for (const delta of halves(argumentsText)) {
        frames.push(event("response.function_call_arguments.delta", { output_index: outputIndex, item_id: itemId, delta }));
      }
      frames.push(event("response.function_call_arguments.done", { output_index: outputIndex, item_id: itemId, arguments: argumentsText }));
    }
    frames.push(event("response.output_item.done", { output_index: outputIndex, item }));
  });
  frames.push(event("response.completed", { response: response(id, context, "completed", items, usage(reply, context)) }));
  return { frames, firstDeltaIndex: firstDeltaIndex < 0 ? frames.length - 1 : firstDeltaIndex };
}

export const openAiResponses: WireFormat = {
  readRequest,
  renderStream,
  renderJson: (reply, context) => response(replyId("resp_"), context, "completed", outputItems(reply), usage(reply, context)),
  renderError: (reply) => ({ error: { message: reply.message, type: reply.errorType, code: reply.errorType, param: null } }),
};
