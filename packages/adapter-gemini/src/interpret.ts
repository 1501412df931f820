import type { AgentVerdict, PodOutcome, RunFacts } from "paperclip-k8s-runtime";
import {
  authFailureVerdict,
  finishedRunVerdict,
  isProviderAuthFailure,
  numberField,
  objectField,
  parseJsonObjectLine,
  readableLines,
  stringField,
  unfinishedRunVerdict,
  type AgentCliTerms,
} from "paperclip-k8s-runtime/agent-kit";
import type { GeminiParsed } from "./parse-output.ts";

const GEMINI: AgentCliTerms = {
  name: "Gemini CLI",
  terminalEvent: "a result line",
  truncatedErrorCode: "gemini_truncated",
  credentials: "GEMINI_API_KEY (or GOOGLE_API_KEY and the Vertex AI settings), as the pod gets it",
};

/**
 * An unknown `--resume` id: Gemini CLI 0.61 says `Error resuming session: Invalid session identifier …` (exit 42);
 * the rest is the wording Paperclip's gemini_local matches for other versions.
 */
const UNKNOWN_SESSION =
  /error resuming session|unknown\s+session|session\s+.*\s+not\s+found|resume\s+.*\s+not\s+found|checkpoint\s+.*\s+not\s+found|cannot\s+resume|failed\s+to\s+resume/i;
/** The CLI's exit code for its session turn limit (`model.maxSessionTurns`). */
const TURN_LIMIT_EXIT = 53;
const QUOTA = /resource_exhausted|quota|rate[-\s]?limit|too many requests/i;

/** What a Gemini CLI run's output means. */
export function interpretGemini(parsed: GeminiParsed, outcome: PodOutcome, facts: RunFacts, now: Date = new Date()): AgentVerdict {
  const verdict: AgentVerdict = {
    sessionId: parsed.sessionId,
    model: facts.model ?? parsed.model,
    provider: "google",
    biller: "google",
    // Headless pods authenticate with an API key (Google login needs a browser); Vertex AI bills per request too.
    billingType: "api",
    usage: parsed.usage,
    costUsd: parsed.costUsd,
    summary: parsed.text,
  };
  const { result } = parsed;
  const exitedNonZero = outcome.exitCode !== null && outcome.exitCode !== 0;
  const unknownSession = [...readableLines(outcome.stderrTail), result?.errorMessage ?? ""].find((line) => UNKNOWN_SESSION.test(line));
  if (facts.resumeSessionId !== null && exitedNonZero && unknownSession !== undefined) {
    return { ...verdict, errorCode: "session_unavailable", errorMessage: `Gemini session is unavailable: ${unknownSession}`, clearSession: true };
  }
  if (outcome.exitCode === TURN_LIMIT_EXIT || result?.errorType === "FatalTurnLimitedError") {
    const message = result?.errorMessage ?? "Gemini CLI reached its session turn limit";
    return { ...verdict, errorCode: "max_turns_exhausted", errorMessage: message, clearSession: true };
  }
  if (result === null) return unfinishedRunVerdict(verdict, outcome, GEMINI);
  if (result.status === "error" && result.errorMessage !== null) return apiErrorVerdict(verdict, result.errorMessage, now);
  return finishedRunVerdict(verdict, outcome, GEMINI, { text: parsed.text, outputTokens: parsed.usage.outputTokens });
}

/** A failed request: the CLI prints the API's error body, `[API Error: {"error":{"code":429,"message":…}}]`. */
function apiErrorVerdict(verdict: AgentVerdict, text: string, now: Date): AgentVerdict {
  const { status, message } = readApiError(text);
  if (isProviderAuthFailure(status, message)) return authFailureVerdict(verdict, GEMINI, { status, detail: message });
  const quota = status === 429 || QUOTA.test(text);
  const transient = status !== null && status >= 500;
  const delay = /"retryDelay":\s*"(\d+(?:\.\d+)?)s"/.exec(text)?.[1];
  return {
    ...verdict,
    errorCode: "llm_api_error",
    errorFamily: quota ? "provider_quota" : transient ? "transient_upstream" : null,
    retryNotBefore: quota && delay !== undefined ? new Date(now.getTime() + Number(delay) * 1000).toISOString() : null,
    errorMessage: `Gemini API error${status === null ? "" : ` (HTTP ${status})`}: ${message}`,
  };
}

/**
 * The CLI's `[API Error: <the API's JSON body, or its message>]` (then, for quota, its own advice): the HTTP status
 * and the provider's message when the body is there, else the text without the wrapper.
 */
function readApiError(text: string): { status: number | null; message: string } {
  const unwrapped = text.replace(/^\[API Error: /, "").replace(/\](?=\n|$)/, "").trim();
  const body = parseJsonObjectLine(/\{[\s\S]*\}/.exec(unwrapped)?.[0] ?? "");
  const error = body === null ? {} : objectField(body, "error");
  const message = stringField(error, "message");
  return message === null ? { status: null, message: unwrapped } : { status: numberField(error, "code"), message };
}
