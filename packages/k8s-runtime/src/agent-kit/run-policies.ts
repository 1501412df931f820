/**
 * The policies every agent CLI shares, decided once here (DESIGN §2): a CLI that refuses to start, output cut
 * short, an empty reply, a non-zero exit after a finished turn, a provider that refuses the credentials.
 * Each takes the verdict the agent built so far and returns it with the policy's error applied.
 */
import type { AgentVerdict, PodOutcome } from "../agent.ts";
import { firstReadableLine } from "./readable-message.ts";

/** How an agent names itself and its terminal event in messages, and its truncation code. */
export interface AgentCliTerms {
  /** The CLI's name for people, e.g. `Claude`. */
  name: string;
  /** The event that ends a complete run, e.g. `a result line`. */
  terminalEvent: string;
  /** `<cli>_truncated`. */
  truncatedErrorCode: string;
  /** The credentials the CLI authenticates with, named in `llm_auth_error` messages, e.g. `ANTHROPIC_API_KEY`. */
  credentials: string;
}

/** The CLI exited non-zero on its own (no signal) without printing a single stdout line. */
export function refusedToStart(outcome: PodOutcome): boolean {
  return outcome.stdoutLines === 0 && outcome.exitCode !== null && outcome.exitCode !== 0 && outcome.signal === null;
}

/**
 * The output ended without the CLI's terminal event. A CLI that refused to start (no image binary, HOME not
 * writable, a rejected flag) is `agent_start_failed` with its own first stderr line; anything else was cut
 * short (killed, OOM, crashed) and is `<cli>_truncated` with the pod's termination in words.
 */
export function unfinishedRunVerdict(verdict: AgentVerdict, outcome: PodOutcome, terms: AgentCliTerms): AgentVerdict {
  const stderr = firstReadableLine(outcome.stderrTail);
  if (refusedToStart(outcome)) {
    return {
      ...verdict,
      errorCode: "agent_start_failed",
      errorMessage: stderr ?? `${terms.name} exited with code ${outcome.exitCode} before printing anything, and said nothing on stderr`,
    };
  }
  return {
    ...verdict,
    errorCode: terms.truncatedErrorCode,
    errorMessage: `${terms.name} output ended without ${terms.terminalEvent}: ${outcome.description}${stderr ? `; stderr: ${stderr}` : ""}`,
  };
}

/** The final reply of a finished turn: its text and the output tokens the provider counted for the run. */
export interface FinalReply {
  text: string;
  outputTokens: number;
}

/**
 * A turn the CLI reports as finished. No text and 0 output tokens means the provider did not answer properly:
 * `llm_api_error`, transient, since a retry is the useful response. A non-zero exit after a finished turn still
 * fails the run, with the CLI's first stderr line when it printed one.
 */
export function finishedRunVerdict(verdict: AgentVerdict, outcome: PodOutcome, terms: AgentCliTerms, reply: FinalReply): AgentVerdict {
  if (reply.text.trim() === "" && reply.outputTokens === 0) {
    return {
      ...verdict,
      errorCode: "llm_api_error",
      errorFamily: "transient_upstream",
      errorMessage: `${terms.name} returned an empty reply (no text, 0 output tokens)`,
    };
  }
  if (outcome.exitCode !== null && outcome.exitCode !== 0) {
    const stderr = firstReadableLine(outcome.stderrTail);
    return {
      ...verdict,
      errorMessage: `${terms.name} finished its turn but exited with code ${outcome.exitCode}: ${stderr ?? outcome.description}`,
    };
  }
  return verdict;
}

/** Provider wording for refused credentials, for errors that carry no HTTP status. */
const AUTH_FAILURE =
  /authentication_error|invalid (?:x-)?api[ _-]?key|incorrect api key|api[ _-]?key (?:is )?(?:missing|invalid|not (?:set|valid))|missing (?:an )?api[ _-]?key|no api[ _-]?key|unauthori[sz]ed|invalid bearer token|oauth token (?:has )?expired|please run \/login/i;

/** The provider refused the credentials: HTTP 401 or 403, or wording that says so. */
export function isProviderAuthFailure(status: number | null, text: string): boolean {
  return status === 401 || status === 403 || AUTH_FAILURE.test(text);
}

/**
 * `llm_auth_error`: retrying cannot help until someone fixes the credential, so no error family (Paperclip does not
 * retry) and no retry time.
 */
export function authFailureVerdict(verdict: AgentVerdict, terms: AgentCliTerms, refusal: { status: number | null; detail: string }): AgentVerdict {
  const said = [refusal.status === null ? null : `HTTP ${refusal.status}`, refusal.detail.trim() || null].filter((part) => part !== null);
  return {
    ...verdict,
    errorCode: "llm_auth_error",
    errorFamily: null,
    retryNotBefore: null,
    errorMessage: `${terms.name} could not authenticate with the model provider${said.length > 0 ? ` (${said.join(": ")})` : ""}. Check ${terms.credentials}.`,
  };
}
