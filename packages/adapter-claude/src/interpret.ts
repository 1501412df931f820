import type { AgentVerdict, PodOutcome, RunFacts } from "paperclip-k8s-runtime";
import {
  authFailureVerdict,
  finishedRunVerdict,
  firstReadableLine,
  isProviderAuthFailure,
  retryNotBeforeFromText,
  unfinishedRunVerdict,
  type AgentCliTerms,
} from "paperclip-k8s-runtime/agent-kit";
import type { ClaudeParsed, ClaudeResult } from "./parse-output.ts";

/** The CLI's wording for a `--resume` id it does not know (Paperclip's claude_local matches the same). */
const UNKNOWN_SESSION =
  /no conversation found with session id|unknown session|session .* not found|not a valid UUID|--resume requires a valid session|is not a UUID|does not match any session title/i;
/** Subscription and provider quota wording, for results that carry no HTTP status. */
const PROVIDER_QUOTA =
  /usage limit reached|you(?:'|’)ve hit your (?:\w+ )?limit|session limit (?:reached|exceeded)|out of extra usage|usage cap reached|weekly limit reached|servicequotaexceededexception/i;
const TURN_LIMIT_REASONS = new Set(["max_turns", "max_turns_exhausted", "turn_limit", "turn_limit_exhausted"]);
const CLAUDE: AgentCliTerms = {
  name: "Claude",
  terminalEvent: "a result line",
  truncatedErrorCode: "claude_truncated",
  credentials: "ANTHROPIC_API_KEY, CLAUDE_CODE_OAUTH_TOKEN or the AWS_* credentials for Bedrock, as the pod gets them",
};

/**
 * What a Claude Code run's output means. The model is the one the CLI reports; `facts.model` (what the
 * command asked for) stands in when the output ends before naming it.
 */
export function interpretClaude(
  parsed: ClaudeParsed,
  outcome: PodOutcome,
  facts: RunFacts = { model: null, resumeSessionId: null },
  now: Date = new Date(),
): AgentVerdict {
  const { result } = parsed;
  const model = parsed.model ?? facts.model;
  const verdict: AgentVerdict = {
    sessionId: parsed.sessionId,
    model,
    provider: "anthropic",
    ...billing(model, parsed.apiKeySource),
    usage: result?.usage ?? null,
    costUsd: result?.costUsd ?? null,
    summary: result !== null && result.text.trim() !== "" ? result.text.trim() : parsed.assistantText,
    resultJson: result?.line ?? null,
  };
  const stderrUnknownSession = UNKNOWN_SESSION.test(outcome.stderrTail) ? firstReadableLine(outcome.stderrTail) : null;

  if (result === null) {
    if (stderrUnknownSession !== null) return unknownSession(verdict, stderrUnknownSession);
    return unfinishedRunVerdict(verdict, outcome, CLAUDE);
  }

  const failed = result.isError || (result.subtype !== null && result.subtype !== "success");
  const unknownSessionMessage = [result.text, ...result.errors].find((message) => UNKNOWN_SESSION.test(message)) ?? stderrUnknownSession;
  if (failed && unknownSessionMessage !== null) return unknownSession(verdict, unknownSessionMessage.trim());
  if (isTurnLimit(result)) {
    return {
      ...verdict,
      errorCode: "max_turns_exhausted",
      errorMessage: describeFailure(result),
      clearSession: true,
      resultJson: { ...result.line, stopReason: "max_turns_exhausted" },
    };
  }
  if (isRefusal(result)) {
    return {
      ...verdict,
      errorCode: "claude_refusal",
      errorFamily: "model_refusal",
      errorMessage: `Claude refused the request${result.text ? `: ${result.text.trim()}` : ""}`,
      resultJson: { ...result.line, stopReason: "refusal" },
    };
  }
  if (failed) {
    if (isProviderAuthFailure(result.apiErrorStatus, [result.text, ...result.errors].join("\n"))) {
      return authFailureVerdict(verdict, CLAUDE, { status: result.apiErrorStatus, detail: result.text || result.errors[0] || "" });
    }
    const family = errorFamily(result);
    return {
      ...verdict,
      errorCode: result.apiErrorStatus !== null || family !== null ? "llm_api_error" : null,
      errorFamily: family,
      retryNotBefore: family === null ? null : retryNotBeforeFromText([result.text, ...result.errors].join("\n"), now),
      errorMessage: describeFailure(result),
    };
  }
  return finishedRunVerdict(verdict, outcome, CLAUDE, { text: result.text, outputTokens: result.usage.outputTokens });
}

function unknownSession(verdict: AgentVerdict, detail: string): AgentVerdict {
  return {
    ...verdict,
    errorCode: "session_unavailable",
    errorMessage: `Claude session is unavailable: ${detail}`,
    clearSession: true,
  };
}

/** Matches Paperclip's claude_local wording, so runs read the same in both adapters. */
function describeFailure(result: ClaudeResult): string {
  const detail = result.text.trim() || result.errors[0] || "";
  return ["Claude run failed", ...(result.subtype ? [`subtype=${result.subtype}`] : []), ...(detail ? [detail] : [])].join(": ");
}

function isTurnLimit(result: ClaudeResult): boolean {
  if (result.subtype === "error_max_turns") return true;
  return ["stop_reason", "stopReason", "terminal_reason", "error_code", "errorCode"].some((key) => {
    const value = result.line[key];
    return typeof value === "string" && TURN_LIMIT_REASONS.has(value.trim().toLowerCase());
  });
}

function isRefusal(result: ClaudeResult): boolean {
  if (result.subtype === "refusal" || result.subtype === "model_refusal") return true;
  return result.line.stop_reason === "refusal";
}

function errorFamily(result: ClaudeResult): AgentVerdict["errorFamily"] {
  const status = result.apiErrorStatus;
  const text = [result.text, ...result.errors].join("\n");
  if (status === 429 || PROVIDER_QUOTA.test(text)) return "provider_quota";
  if (status !== null && (status >= 500 || status === 408)) return "transient_upstream";
  return null;
}

/** Who pays, from what the CLI says about its credentials and model; the runtime's env is not visible here. */
function billing(model: string | null, apiKeySource: string | null): Pick<AgentVerdict, "biller" | "billingType"> {
  if (model !== null && /^(?:\w+\.anthropic\.|arn:aws:bedrock:)/.test(model)) {
    return { biller: "aws_bedrock", billingType: "metered_api" };
  }
  if (apiKeySource === null) return { biller: "anthropic", billingType: "unknown" };
  return { biller: "anthropic", billingType: apiKeySource === "none" ? "subscription" : "api" };
}
