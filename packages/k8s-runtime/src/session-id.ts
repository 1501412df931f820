/**
 * Session ids come from the agent's own output, so they are hostile input: a run resumes one as a CLI argument
 * and records it in the Job's annotations and labels. An id the API would refuse (the annotations of one object
 * may total 256 KiB) made every later run of the agent fail with 422 until someone cleared the session by hand.
 * So an id that is too long or holds characters no CLI uses is never resumed or stored: the run starts fresh and
 * its result clears the session.
 */
import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";

/** Real ids are ~36 (Claude Code's UUIDs) to ~40 (OpenCode's `ses_…`) characters. */
export const MAX_SESSION_ID_LENGTH = 256;
/** Letters, digits and the punctuation ids use; no whitespace, quotes, `$`, or control characters; never a leading `-` (an option). */
const SESSION_ID = /^[A-Za-z0-9_][A-Za-z0-9._:@+=/-]*$/;

/** Why `sessionId` may not be used, or null when it may. */
export function sessionIdProblem(sessionId: string): string | null {
  if (sessionId.length > MAX_SESSION_ID_LENGTH) return `it is ${sessionId.length} characters long (at most ${MAX_SESSION_ID_LENGTH})`;
  if (!SESSION_ID.test(sessionId)) return "it holds characters a session id never has (only letters, digits and . _ : @ + = / - are kept)";
  return null;
}

/** A session id for messages: never more than a few dozen characters of it. */
export function describeSessionId(sessionId: string): string {
  const shown = JSON.stringify(sessionId.slice(0, 40));
  return sessionId.length > 40 ? `${shown.slice(0, -1)}…" (${sessionId.length} characters)` : shown;
}

/**
 * The result with an unusable new session id (from the agent's output) removed and the session cleared, and the
 * session cleared as well when this run dropped the one it was to resume and did not start a new one. `note`
 * receives what was dropped, for the run log.
 */
export function withUsableSession(
  result: AdapterExecutionResult,
  droppedResumedSession: boolean,
  note: (message: string) => void,
): AdapterExecutionResult {
  const newId = typeof result.sessionId === "string" ? result.sessionId : null;
  const problem = newId === null ? null : sessionIdProblem(newId);
  if (newId !== null && problem !== null) {
    note(`The agent's new session id ${describeSessionId(newId)} is not kept: ${problem}. The next run starts a fresh session.`);
    return { ...result, sessionId: null, sessionParams: null, sessionDisplayId: null, clearSession: true };
  }
  return droppedResumedSession && newId === null ? { ...result, clearSession: true } : result;
}
