import type { AgentVerdict, PodOutcome, RunFacts } from "paperclip-k8s-runtime";
import type { OpenCodeError, OpenCodeParsed } from "./parse-output.ts";

/** OpenCode's wording for a `--session` id it does not know (Paperclip's opencode_local matches the same). */
const UNKNOWN_SESSION =
  /unknown\s+session|session\b.*\bnot\s+found|resource\s+not\s+found:.*[\\/]session[\\/].*\.json|notfounderror|no session/i;

/** What an OpenCode run's output means; OpenCode never names its model, so `facts.model` (`provider/model`) does. */
export function interpretOpenCode(
  parsed: OpenCodeParsed,
  outcome: PodOutcome,
  facts: RunFacts = { model: null },
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
  const stderr = stripAnsi(outcome.stderrTail)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const exitedNonZero = outcome.exitCode !== null && outcome.exitCode !== 0;

  const unknownSession = [...parsed.errors.map((error) => error.message), ...stderr].find((line) => UNKNOWN_SESSION.test(line));
  if (unknownSession !== undefined && (exitedNonZero || parsed.errors.length > 0)) {
    return { ...verdict, errorCode: "session_unavailable", errorMessage: `OpenCode session is unavailable: ${unknownSession}`, clearSession: true };
  }
  if (parsed.errors.length > 0) {
    const family = errorFamily(parsed.errors);
    return {
      ...verdict,
      errorCode: "llm_api_error",
      errorFamily: family,
      retryNotBefore: family === null ? null : retryNotBefore(parsed.errors, now),
      errorMessage: parsed.errors.map((error) => error.message).join("\n"),
    };
  }
  if (!parsed.finished) {
    const detail = stderr[0] ? `; stderr: ${stderr[0]}` : "";
    return { ...verdict, errorCode: "opencode_truncated", errorMessage: `OpenCode output ended before its final step: ${outcome.description}${detail}` };
  }
  if (parsed.text === "" && parsed.usage.outputTokens === 0) {
    // The model answered with nothing at all: the provider is not answering properly; retrying helps.
    return {
      ...verdict,
      errorCode: "llm_api_error",
      errorFamily: "transient_upstream",
      errorMessage: "OpenCode returned an empty reply (no text, 0 output tokens)",
    };
  }
  if (exitedNonZero) {
    // opencode_local's wording: the first stderr line, else the exit code.
    return { ...verdict, errorMessage: stderr[0] ?? `OpenCode exited with code ${outcome.exitCode}` };
  }
  return verdict;
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

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}
