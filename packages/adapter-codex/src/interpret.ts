import type { AgentVerdict, PodOutcome, RunFacts } from "paperclip-k8s-runtime";
import {
  authFailureVerdict,
  finishedRunVerdict,
  isProviderAuthFailure,
  readableLines,
  retryNotBeforeFromText,
  unfinishedRunVerdict,
  type AgentCliTerms,
} from "paperclip-k8s-runtime/agent-kit";
import type { CodexParsed } from "./parse-output.ts";

const CODEX: AgentCliTerms = {
  name: "Codex",
  terminalEvent: "turn.completed or turn.failed",
  truncatedErrorCode: "codex_truncated",
  credentials: "OPENAI_API_KEY (or the env_key of the configured model provider), as the pod gets it",
};

/** Codex's words for a thread it cannot resume (the wording Paperclip's codex_local matches too). */
const UNKNOWN_SESSION =
  /unknown (?:session|thread)|(?:session|thread|conversation) .* not found|no rollout found for thread id|missing rollout path for thread|stale rollout path/i;
/** Codex logs this for OTHER threads of the same HOME while it works; it never explains this run's failure. */
const ROLLOUT_NOISE = /\bERROR\s+codex_core::rollout::list:/;
/** How Codex quotes an HTTP refusal: `unexpected status 401 Unauthorized: …`. */
const HTTP_STATUS = /\bunexpected status (\d{3})\b/;
const PROVIDER_QUOTA = /usage limit|at capacity|capacity limit|\b429\b|too many requests|rate[- ]?limit/i;
const TRANSIENT = /high demand|temporary errors|server overloaded|service unavailable|try again later|remote compact task/i;

/** What a `codex exec --json` run's output means. */
export function interpretCodex(
  parsed: CodexParsed,
  outcome: PodOutcome,
  facts: RunFacts = { model: null, resumeSessionId: null },
  now: Date = new Date(),
): AgentVerdict {
  const verdict: AgentVerdict = {
    sessionId: parsed.sessionId,
    model: facts.model,
    provider: "openai",
    biller: "openai",
    billingType: "unknown",
    usage: parsed.usage,
    costUsd: null,
    summary: parsed.summary,
    // turn.completed counts the whole thread, earlier runs included, once it was resumed.
    usageBasis: facts.resumeSessionId === null ? "per_run" : "session_cumulative",
  };
  const stderr = readableLines(outcome.stderrTail).filter((line) => !ROLLOUT_NOISE.test(line));
  const exitedNonZero = outcome.exitCode !== null && outcome.exitCode !== 0;

  const unknownSession = [...stderr, parsed.turnFailure ?? "", parsed.lastError ?? ""].find((line) => UNKNOWN_SESSION.test(line));
  if (exitedNonZero && parsed.sessionId === null && unknownSession !== undefined) {
    return { ...verdict, errorCode: "session_unavailable", errorMessage: `Codex cannot resume the thread: ${unknownSession}`, clearSession: true };
  }
  // Codex answers an unknown non-UUID id by starting a new thread without a word: the session asked for is gone.
  if (facts.resumeSessionId !== null && parsed.sessionId !== null && parsed.sessionId !== facts.resumeSessionId) {
    return {
      ...verdict,
      errorCode: "session_unavailable",
      errorMessage: `Codex did not resume thread ${facts.resumeSessionId}: it started a new thread ${parsed.sessionId} instead`,
      clearSession: true,
    };
  }
  // A fatal error Codex reports without a turn (it exits on its own right after) fails the run like a failed turn.
  const failure = parsed.turnFailure ?? (!parsed.turnCompleted && exitedNonZero && outcome.signal === null ? parsed.lastError : null);
  if (failure !== null) return failedTurnVerdict(verdict, failure, now);
  if (!parsed.turnCompleted) return unfinishedRunVerdict(verdict, outcome, CODEX);
  return finishedRunVerdict(verdict, outcome, CODEX, { text: parsed.summary, outputTokens: parsed.usage.outputTokens });
}

/** A turn the provider failed: refused credentials, quota, a transient upstream error, or another API error. */
function failedTurnVerdict(verdict: AgentVerdict, message: string, now: Date): AgentVerdict {
  const status = Number(HTTP_STATUS.exec(message)?.[1] ?? Number.NaN);
  const httpStatus = Number.isNaN(status) ? null : status;
  if (isProviderAuthFailure(httpStatus, message)) return authFailureVerdict(verdict, CODEX, { status: httpStatus, detail: message });
  const family =
    httpStatus === 429 || PROVIDER_QUOTA.test(message)
      ? "provider_quota"
      : (httpStatus !== null && httpStatus >= 500) || TRANSIENT.test(message)
        ? "transient_upstream"
        : null;
  return {
    ...verdict,
    errorCode: "llm_api_error",
    errorFamily: family,
    retryNotBefore: family === null ? null : retryNotBeforeFromText(message, now),
    errorMessage: message,
  };
}
