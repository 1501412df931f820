import type { UsageSummary } from "@paperclipai/adapter-utils";
import type { OutputParser } from "paperclip-k8s-runtime";
import { isJsonObject, numberField, objectField, parseJsonObjectLine, stringField, TextTail, type JsonObject } from "paperclip-k8s-runtime/agent-kit";

/** Budget for the reply text kept as the summary. */
const TEXT_BUDGET = 64 * 1024;
/** Budget for the text of `error` events (warnings such as an empty model response). */
const ERROR_BUDGET = 4 * 1024;

/** The `result` line that ends a `gemini --output-format stream-json` run. */
export interface GeminiResult {
  /** `success` or `error`. */
  status: string;
  /** The error's class as the CLI names it (`FatalTurnLimitedError`, `unknown`, …) and its message. */
  errorType: string | null;
  errorMessage: string | null;
}

export interface GeminiParsed {
  sessionId: string | null;
  /** The model the CLI named in its `init` line (`auto` when it routes). */
  model: string | null;
  /** From the `result` line's stats (summed if there were several), counted as Paperclip's gemini_local counts. */
  usage: UsageSummary;
  costUsd: number | null;
  /** Every assistant message, trimmed and joined by blank lines (most recent when long), as Paperclip's summary. */
  text: string;
  /** The last `result` line, or null if the output ended without one. */
  result: GeminiResult | null;
  /** Text of `error` events. */
  errors: string;
}

export function createGeminiParser(): OutputParser<GeminiParsed> {
  let sessionId: string | null = null;
  let model: string | null = null;
  const usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  let costUsd: number | null = null;
  let result: GeminiResult | null = null;
  const text = new TextTail(TEXT_BUDGET);
  const errors = new TextTail(ERROR_BUDGET);
  const pushText = (value: string | null | undefined) => {
    const trimmed = value?.trim();
    if (trimmed) text.push(trimmed);
  };

  return {
    push(line) {
      const event = parseJsonObjectLine(line);
      if (event === null) return;
      sessionId = (stringField(event, "session_id") ?? stringField(event, "sessionId"))?.trim() || sessionId;
      switch (stringField(event, "type")) {
        case "init":
          model = stringField(event, "model") ?? model;
          break;
        case "message":
          if (stringField(event, "role") === "assistant") for (const piece of messageTexts(event.content)) pushText(piece);
          break;
        case "assistant":
          for (const piece of messageTexts(event.message)) pushText(piece);
          break;
        case "error":
          pushTo(errors, errorText(event.error ?? event.message));
          break;
        case "result": {
          const stats = objectField(event, "stats");
          usage.inputTokens += numberField(stats, "input_tokens") ?? numberField(stats, "inputTokens") ?? 0;
          usage.outputTokens += numberField(stats, "output_tokens") ?? numberField(stats, "outputTokens") ?? 0;
          usage.cachedInputTokens += numberField(stats, "cached_input_tokens") ?? numberField(stats, "cached") ?? 0;
          costUsd = numberField(event, "total_cost_usd") ?? numberField(event, "cost_usd") ?? costUsd;
          if (text.join("") === "") pushText(stringField(event, "result") ?? stringField(event, "response"));
          const error = event.error;
          result = {
            status: stringField(event, "status") ?? "success",
            errorType: isJsonObject(error) ? stringField(error, "type") : null,
            errorMessage: error === undefined ? null : errorText(error),
          };
          break;
        }
      }
    },
    result() {
      return { sessionId, model, usage: { ...usage }, costUsd, text: text.join("\n\n").trim(), result, errors: errors.join("\n").trim() };
    },
  };
}

function pushTo(tail: TextTail, value: string): void {
  if (value.trim() !== "") tail.push(value.trim());
}

/** An assistant message's text: a string, `{text}`, or `{content: [{type: "text", text}]}` (older CLI versions). */
function messageTexts(message: unknown): string[] {
  if (typeof message === "string") return [message];
  if (!isJsonObject(message)) return [];
  const parts = Array.isArray(message.content) ? message.content.filter(isJsonObject) : [];
  return [stringField(message, "text") ?? "", ...parts.filter(isTextPart).map((part) => stringField(part, "text") ?? stringField(part, "content") ?? "")];
}

function isTextPart(part: JsonObject): boolean {
  return ["text", "output_text", "content"].includes(stringField(part, "type") ?? "");
}

function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  if (!isJsonObject(error)) return "";
  return stringField(error, "message") ?? stringField(error, "error") ?? stringField(error, "code") ?? JSON.stringify(error);
}
