import type { AgentVerdict, PodOutcome, RunFacts } from "paperclip-k8s-runtime";
import {
  authFailureVerdict,
  finishedRunVerdict,
  isProviderAuthFailure,
  readableLines,
  unfinishedRunVerdict,
  type AgentCliTerms,
} from "paperclip-k8s-runtime/agent-kit";
import type { OpenCodeError, OpenCodeParsed } from "./parse-output.ts";

/** OpenCode's wording for a `--session` id it does not know (Paperclip's opencode_local matches the same). */
const UNKNOWN_SESSION =
  /unknown\s+session|session\b.*\bnot\s+found|resource\s+not\s+found:.*[\\/]session[\\/].*\.json|notfounderror|no session/i;
const OPENCODE: AgentCliTerms = {
  name: "OpenCode",
  terminalEvent: "its final step",
  truncatedErrorCode: "opencode_truncated",
  credentials: "the provider's API key (OPENAI_API_KEY, ANTHROPIC_API_KEY, … or apiKey in its OpenCode config), as the pod gets it",
};

/** What an OpenCode run's output means; OpenCode never names its model, so `facts.model` (`provider/model`) does. */
export function interpretOpenCode(
  parsed: OpenCodeParsed,
  outcome: PodOutcome,
  facts: RunFacts = { model: null, resumeSessionId: null },
  now: Date = new Date(),
): AgentVerdict {
  const provider = facts.model?.includes("/") ? facts.model.slice(0, facts.model.indexOf("/")) : null;
  const verdict: AgentVerdict = {
    sessionId: parsed.sessionId,
    model: facts.model,
    provider,
    biller: provider,
    billingType: "unknown",
    usage: parsed.usage,
    costUsd: parsed.costUsd,
    summary: parsed.text,
  };
  const stderr = readableLines(outcome.stderrTail);
  const exitedNonZero = outcome.exitCode !== null && outcome.exitCode !== 0;

  const unknownSession = [...parsed.errors.map((error) => error.message), ...stderr].find((line) => UNKNOWN_SESSION.test(line));
  if (unknownSession !== undefined && (exitedNonZero || parsed.errors.length > 0)) {
    return { ...verdict, errorCode: "session_unavailable", errorMessage: `OpenCode session is unavailable: ${unknownSession}`, clearSession: true };
  }
  if (parsed.errors.length > 0) {
    const message = parsed.errors.map((error) => error.message).join("\n");
    const refused = parsed.errors.find((error) => isProviderAuthFailure(error.statusCode, error.message));
    if (refused !== undefined) return authFailureVerdict(verdict, OPENCODE, { status: refused.statusCode, detail: refused.message });
    const family = errorFamily(parsed.errors);
    return {
      ...verdict,
      errorCode: "llm_api_error",
      errorFamily: family,
      retryNotBefore: family === null ? null : retryNotBefore(parsed.errors, now),
      errorMessage: message,
    };
  }
  if (!parsed.finished) return unfinishedRunVerdict(verdict, outcome, OPENCODE);
  return finishedRunVerdict(verdict, outcome, OPENCODE, { text: parsed.text, outputTokens: parsed.usage.outputTokens });
}

/** 429 means quota; 5xx or an error OpenCode marks retryable is a transient upstream failure. */
function errorFamily(errors: OpenCodeError[]): AgentVerdict["errorFamily"] {
  if (errors.some((error) => error.statusCode === 429)) return "provider_quota";
  if (errors.some((error) => (error.statusCode !== null && error.statusCode >= 500) || error.isRetryable === true)) {
    return "transient_upstream";
  }
  return null;
}

/** From the provider's `retry-after` header (seconds or an HTTP date), when it sent one. */
function retryNotBefore(errors: OpenCodeError[], now: Date): string | null {
  const header = errors.findLast((error) => error.retryAfter !== null)?.retryAfter?.trim();
  if (!header) return null;
  const at = /^\d+(?:\.\d+)?$/.test(header) ? now.getTime() + Number(header) * 1000 : Date.parse(header);
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
}
