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

/** Budget for the assistant text kept as a fallback summary when no `result` line arrives. */
const ASSISTANT_TEXT_BUDGET = 64 * 1024;

/** The terminal `result` line of `claude -p --output-format stream-json`. */
export interface ClaudeResult {
  subtype: string | null;
  isError: boolean;
  /** The reply text (`result`), empty when absent. */
  text: string;
  apiErrorStatus: number | null;
  /** `errors[]` as messages. */
  errors: string[];
  numTurns: number | null;
  costUsd: number | null;
  usage: UsageSummary;
  /** The line itself, for `resultJson`. */
  line: JsonObject;
}

export interface ClaudeParsed {
  sessionId: string | null;
  /** Model from the `system`/`init` line. */
  model: string | null;
  /** Where the CLI found its credentials (`init` line), e.g. `ANTHROPIC_API_KEY` or `none`. */
  apiKeySource: string | null;
  result: ClaudeResult | null;
  /** Assistant text blocks joined (most recent ones when long): the summary when there is no result. */
  assistantText: string;
}

export function createClaudeParser(): OutputParser<ClaudeParsed> {
  let sessionId: string | null = null;
  let model: string | null = null;
  let apiKeySource: string | null = null;
  let result: ClaudeResult | null = null;
  const assistantText = new TextTail(ASSISTANT_TEXT_BUDGET);

  return {
    push(line) {
      const event = parseJsonObjectLine(line);
      if (event === null) return;
      sessionId = stringField(event, "session_id") ?? sessionId;
      switch (stringField(event, "type")) {
        case "system":
          if (stringField(event, "subtype") === "init") {
            model = stringField(event, "model") ?? model;
            apiKeySource = stringField(event, "apiKeySource") ?? apiKeySource;
          }
          break;
        case "assistant":
          for (const text of assistantTexts(event)) assistantText.push(text);
          break;
        case "result":
          result = readResult(event);
          break;
      }
    },
    result() {
      return { sessionId, model, apiKeySource, result, assistantText: assistantText.join("\n\n").trim() };
    },
  };
}

function assistantTexts(event: JsonObject): string[] {
  const content = objectField(event, "message").content;
  if (!Array.isArray(content)) return [];
  return content.flatMap((block: unknown) =>
    isJsonObject(block) && block.type === "text" && typeof block.text === "string" && block.text !== "" ? [block.text] : [],
  );
}

function readResult(line: JsonObject): ClaudeResult {
  return {
    subtype: stringField(line, "subtype"),
    isError: line.is_error === true,
    text: typeof line.result === "string" ? line.result : "",
    apiErrorStatus: numberField(line, "api_error_status"),
    errors: Array.isArray(line.errors) ? line.errors.flatMap(errorMessage) : [],
    numTurns: numberField(line, "num_turns"),
    costUsd: numberField(line, "total_cost_usd"),
    usage: modelUsageTotals(objectField(line, "modelUsage")) ?? topLevelUsage(objectField(line, "usage")),
    line,
  };
}

function errorMessage(entry: unknown): string[] {
  if (typeof entry === "string") return entry.trim() === "" ? [] : [entry.trim()];
  if (!isJsonObject(entry)) return [];
  const message = stringField(entry, "message") ?? stringField(entry, "error") ?? stringField(entry, "code");
  return [message ?? JSON.stringify(entry)];
}

/**
 * `modelUsage` is the CLI's per-model ledger and includes subagents, which the top-level `usage`
 * misses; cache-creation tokens are billed input. This is how Paperclip's claude_local counts.
 */
function modelUsageTotals(modelUsage: JsonObject): UsageSummary | null {
  const entries = Object.values(modelUsage).filter(
    (entry): entry is JsonObject => isJsonObject(entry) && Object.keys(entry).length > 0,
  );
  if (entries.length === 0) return null;
  const totals = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  for (const entry of entries) {
    totals.inputTokens += (numberField(entry, "inputTokens") ?? 0) + (numberField(entry, "cacheCreationInputTokens") ?? 0);
    totals.outputTokens += numberField(entry, "outputTokens") ?? 0;
    totals.cachedInputTokens += numberField(entry, "cacheReadInputTokens") ?? 0;
  }
  return totals;
}

function topLevelUsage(usage: JsonObject): UsageSummary {
  return {
    inputTokens: numberField(usage, "input_tokens") ?? 0,
    outputTokens: numberField(usage, "output_tokens") ?? 0,
    cachedInputTokens: numberField(usage, "cache_read_input_tokens") ?? 0,
  };
}
