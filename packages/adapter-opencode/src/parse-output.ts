import type { UsageSummary } from "@paperclipai/adapter-utils";
import type { OutputParser } from "paperclip-k8s-runtime";
import {
  isJsonObject,
  numberField,
  objectField,
  parseJsonObjectLine,
  stringField,
  TextTail,
  type JsonObject,
} from "paperclip-k8s-runtime/agent-kit";

/** Budget for the reply text kept as the summary. */
const TEXT_BUDGET = 64 * 1024;
/** How many `error` lines are kept (the most recent). */
const MAX_ERRORS = 20;

/** An `error` line of `opencode run --format json`. */
export interface OpenCodeError {
  message: string;
  /** The error class OpenCode names, e.g. `APIError`, `UnknownError`. */
  name: string | null;
  statusCode: number | null;
  isRetryable: boolean | null;
  /** The provider's `retry-after` response header, when it sent one. */
  retryAfter: string | null;
}

export interface OpenCodeParsed {
  sessionId: string | null;
  /** Summed over every `step_finish`, counted as Paperclip's opencode_local counts (reasoning is output). */
  usage: UsageSummary;
  costUsd: number;
  /** Text of every `text` event, joined (most recent ones when long), as Paperclip's summary. */
  text: string;
  /** The last step event was a `step_finish` with reason `stop`: OpenCode finished its reply. */
  finished: boolean;
  stepCount: number;
  errors: OpenCodeError[];
}

export function createOpenCodeParser(): OutputParser<OpenCodeParsed> {
  let sessionId: string | null = null;
  const usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  let costUsd = 0;
  let finished = false;
  let stepCount = 0;
  const text = new TextTail(TEXT_BUDGET);
  const errors: OpenCodeError[] = [];

  return {
    push(line) {
      const event = parseJsonObjectLine(line);
      if (event === null) return;
      sessionId = stringField(event, "sessionID")?.trim() || sessionId;
      const part = objectField(event, "part");
      switch (stringField(event, "type")) {
        case "step_start":
          finished = false;
          stepCount += 1;
          break;
        case "text": {
          const content = stringField(part, "text")?.trim();
          if (content) text.push(content);
          break;
        }
        case "step_finish": {
          const tokens = objectField(part, "tokens");
          usage.inputTokens += numberField(tokens, "input") ?? 0;
          usage.outputTokens += (numberField(tokens, "output") ?? 0) + (numberField(tokens, "reasoning") ?? 0);
          usage.cachedInputTokens += numberField(objectField(tokens, "cache"), "read") ?? 0;
          costUsd += numberField(part, "cost") ?? 0;
          finished = stringField(part, "reason") === "stop";
          break;
        }
        case "error":
          errors.push(readError(event.error ?? event.message));
          if (errors.length > MAX_ERRORS) errors.shift();
          break;
      }
    },
    result() {
      return { sessionId, usage: { ...usage }, costUsd, text: text.join("\n\n").trim(), finished, stepCount, errors: [...errors] };
    },
  };
}

function readError(error: unknown): OpenCodeError {
  if (typeof error === "string") return { message: error.trim(), name: null, statusCode: null, isRetryable: null, retryAfter: null };
  const record = isJsonObject(error) ? error : {};
  const data = objectField(record, "data");
  const headers = objectField(data, "responseHeaders");
  const retryable = data.isRetryable;
  return {
    message: firstText(record, data),
    name: stringField(record, "name"),
    statusCode: numberField(data, "statusCode"),
    isRetryable: typeof retryable === "boolean" ? retryable : null,
    retryAfter: stringField(headers, "retry-after"),
  };
}

/** The message the way Paperclip's opencode_local reads it: own message, nested message, name, code. */
function firstText(record: JsonObject, data: JsonObject): string {
  for (const candidate of [record.message, data.message, record.name, record.code]) {
    if (typeof candidate === "string" && candidate.trim() !== "") return candidate.trim();
  }
  return JSON.stringify(record);
}
