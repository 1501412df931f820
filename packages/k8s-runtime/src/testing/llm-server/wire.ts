/** What each API dialect (Anthropic Messages, OpenAI chat completions, …) must provide to the server (see `dialects.ts`). */
import type { JsonObject } from "../../agent-kit/json-fields.ts";
import { isJsonObject } from "../../agent-kit/json-fields.ts";
import type { ApiErrorReply, Conversation, Reply } from "./scenario.ts";

export type ContentReply = Exclude<Reply, ApiErrorReply>;

export interface ParsedRequest {
  model: string | null;
  stream: boolean;
  /** Messages in the request, so tests can see a resumed session carry its history. */
  messageCount: number;
  conversation: Conversation;
}

export interface ReplyContext {
  model: string;
  inputTokens: number;
}

/** A reply as a server-sent-events stream; `firstDeltaIndex` is the frame with the first text delta (where `stall` and `cut` stop). */
export interface RenderedStream {
  frames: string[];
  firstDeltaIndex: number;
}

export interface WireFormat {
  /** `endpoint` is the path after the run's base URL (e.g. `/v1/messages`): some APIs put the model or streaming in it. */
  readRequest(body: JsonObject, endpoint: string): ParsedRequest;
  renderStream(reply: ContentReply, context: ReplyContext): RenderedStream;
  renderJson(reply: ContentReply, context: ReplyContext): JsonObject;
  renderError(reply: ApiErrorReply): JsonObject;
}

/** The text of a message's `content`: a string, or the `text` of its text parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(isJsonObject)
    .map((part) => (typeof part.text === "string" ? part.text : ""))
    .join("\n");
}

/** A rough token count (about four characters a token), good enough for usage fields. */
export function roughTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Output tokens of a reply: what the model "wrote". */
export function outputTokens(reply: ContentReply): number {
  switch (reply.kind) {
    case "empty":
      return 0;
    case "text":
      return roughTokens(reply.text);
    case "tool":
      return roughTokens(reply.preamble + JSON.stringify(reply.input));
  }
}

/** A random id with a prefix, like the real APIs' `msg_…` / `toolu_…` / `call_…`. */
export function replyId(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

/** `text` cut in two, so JSON arguments arrive as several deltas. */
export function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

/** `text` as word-sized deltas, so a stream carries several. */
export function textDeltas(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}
