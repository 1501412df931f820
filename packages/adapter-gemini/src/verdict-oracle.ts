/**
 * The verdict of an outside authority on a recorded Gemini CLI run, for `npm run fixtures:verdicts` and the tests:
 * Paperclip's own gemini_local parsers read the transcript, the recorded exit code says how the CLI ended, and the
 * shared policies of DESIGN §2-3 (empty reply, refused start, output cut short, refused credentials) are applied to
 * that reading. It never calls this package's parser or `interpret`. Test support only: not built, not published.
 */
import {
  detectGeminiAuthRequired,
  detectGeminiQuotaExhausted,
  isGeminiSessionUnrecoverableError,
  isGeminiTurnLimitResult,
  parseGeminiJsonl,
} from "@paperclipai/adapter-gemini-local/server";
import { isJsonObject } from "paperclip-k8s-runtime/agent-kit";
import { oracleVerdicts, type CliFixture, type FixtureVerdict } from "paperclip-k8s-runtime/testing";

const AUTHORITY =
  "@paperclipai/adapter-gemini-local 2026.916.1 (parseGeminiJsonl, isGeminiSessionUnrecoverableError, isGeminiTurnLimitResult, detectGeminiAuthRequired, detectGeminiQuotaExhausted), Gemini CLI 0.61.0's own resume error, and the recorded exit code";

/**
 * Gemini CLI 0.61.0 refuses an unknown `--resume` id with `Error resuming session: Invalid session identifier …`
 * (exit 42), which Paperclip's `isGeminiSessionUnrecoverableError` does not match (it was written for older
 * wording); without this the session would be resumed, and fail, forever.
 */
const CLI_RESUME_REFUSAL = /^Error resuming session: /m;

export function geminiVerdictOracle(fixture: CliFixture): FixtureVerdict {
  const reading = parseGeminiJsonl(fixture.stdout);
  const { exitCode, failed, unfinished, finished } = oracleVerdicts(AUTHORITY, fixture, reading);
  const { stdout, stderr } = fixture;
  if (exitCode !== 0 && (isGeminiSessionUnrecoverableError(stdout, stderr) || CLI_RESUME_REFUSAL.test(stderr))) {
    return failed("session_unavailable", { clearSession: true });
  }
  const result = reading.resultEvent;
  if (isGeminiTurnLimitResult(result, exitCode)) return failed("max_turns_exhausted", { clearSession: true });
  if (result === null) return unfinished("gemini_truncated");
  const error = isJsonObject(result.error) ? result.error : null;
  if (result.status === "error" && error !== null) {
    const message = typeof error.message === "string" ? error.message : "";
    const code = /"code":\s*(\d{3})\b/.exec(message)?.[1];
    const status = code === undefined ? null : Number(code);
    if (status === 401 || status === 403 || detectGeminiAuthRequired({ parsed: result, stdout, stderr }).requiresAuth) return failed("llm_auth_error");
    if (status === 429 || detectGeminiQuotaExhausted({ parsed: result, stdout, stderr }).exhausted) {
      return failed("llm_api_error", { errorFamily: "provider_quota" });
    }
    if (status !== null && status >= 500) return failed("llm_api_error", { errorFamily: "transient_upstream" });
    return failed("llm_api_error");
  }
  return finished();
}
