import type { UsageSummary } from "@paperclipai/adapter-utils";
import type { OutputParser } from "paperclip-k8s-runtime";
import { numberField, objectField, parseJsonObjectLine, stringField } from "paperclip-k8s-runtime/agent-kit";

/** Budget for the final reply kept as the summary, and for one error message. */
const TEXT_BUDGET = 64 * 1024;
const MESSAGE_BUDGET = 4 * 1024;
/** Codex thread ids are UUIDs; anything else in `thread.started` is not resumed (it would become an argument). */
const THREAD_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface CodexParsed {
  /** `thread.started`'s thread id: the session a resume names. */
  sessionId: string | null;
  /** The last `turn.completed`'s usage: Codex reports the thread's running total, not this run's share. */
  usage: UsageSummary;
  /** The text of the last `agent_message` item, as Paperclip's codex_local summary. */
  summary: string;
  /** A `turn.completed` came after the last `turn.started`. */
  turnCompleted: boolean;
  /** The message of the last `turn.failed`. */
  turnFailure: string | null;
  /** The message of the last `error` event (Codex also prints its retries, `Reconnecting... 1/5 (…)`, as these). */
  lastError: string | null;
}

const bounded = (text: string, budget: number) => (text.length > budget ? `${text.slice(0, budget)}…` : text);

/** Reads `codex exec --json`: thread, turn and item events, keeping only what `interpret` needs. */
export function createCodexParser(): OutputParser<CodexParsed> {
  let sessionId: string | null = null;
  let usage: UsageSummary = { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 };
  let summary = "";
  let turnCompleted = false;
  let turnFailure: string | null = null;
  let lastError: string | null = null;

  return {
    push(line) {
      const event = parseJsonObjectLine(line);
      const type = event === null ? null : stringField(event, "type");
      if (event === null || type === null) return;
      switch (type) {
        case "thread.started": {
          const id = stringField(event, "thread_id")?.trim() ?? "";
          if (THREAD_ID.test(id)) sessionId = id;
          break;
        }
        case "turn.started":
          turnCompleted = false;
          break;
        case "item.completed": {
          const item = objectField(event, "item");
          const text = stringField(item, "type") === "agent_message" ? stringField(item, "text") : null;
          if (text) summary = bounded(text.trim(), TEXT_BUDGET);
          break;
        }
        case "turn.completed": {
          const reported = objectField(event, "usage");
          usage = {
            inputTokens: numberField(reported, "input_tokens") ?? usage.inputTokens,
            cachedInputTokens: numberField(reported, "cached_input_tokens") ?? usage.cachedInputTokens,
            outputTokens: numberField(reported, "output_tokens") ?? usage.outputTokens,
          };
          turnCompleted = true;
          break;
        }
        case "turn.failed":
          turnFailure = bounded(stringField(objectField(event, "error"), "message")?.trim() || "Codex reported a failed turn", MESSAGE_BUDGET);
          break;
        case "error":
          lastError = bounded(stringField(event, "message")?.trim() || "Codex reported an error", MESSAGE_BUDGET);
          break;
      }
    },
    result() {
      return { sessionId, usage: { ...usage }, summary, turnCompleted, turnFailure, lastError };
    },
  };
}
