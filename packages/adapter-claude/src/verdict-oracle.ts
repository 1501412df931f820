/**
 * The verdict of an outside authority on a recorded Claude Code run, for `npm run fixtures:verdicts` and the
 * tests: Paperclip's own claude_local parsers read the transcript, the recorded exit code says how the CLI
 * ended, and the shared policies of DESIGN §2-3 (empty reply, refused start, output cut short, refused
 * credentials) are applied to that reading. It never calls this package's parser or `interpret`. Test support
 * only: not built, not published.
 */
import {
  isClaudeMaxTurnsResult,
  isClaudeProviderQuotaError,
  isClaudeRefusalResult,
  isClaudeUnknownSessionError,
  parseClaudeStreamJson,
} from "@paperclipai/adapter-claude-local/server";
import { oracleVerdicts, type CliFixture, type FixtureVerdict } from "paperclip-k8s-runtime/testing";

const AUTHORITY =
  "@paperclipai/adapter-claude-local 2026.916.1 (parseClaudeStreamJson, isClaudeUnknownSessionError, isClaudeMaxTurnsResult, isClaudeRefusalResult, isClaudeProviderQuotaError) and the recorded exit code";

/** Wording of refused credentials in a result that carries no HTTP status. */
const AUTH_WORDING = /invalid api key|authentication_error|invalid x-api-key|please run \/login|oauth token has expired/i;

export function claudeVerdictOracle(fixture: CliFixture): FixtureVerdict {
  const reading = parseClaudeStreamJson(fixture.stdout);
  const { failed, unfinished, finished } = oracleVerdicts(AUTHORITY, fixture, reading);
  const result = reading.resultJson;
  if (result === null) {
    return unfinished("claude_truncated");
  }
  if (isClaudeUnknownSessionError(result)) return failed("session_unavailable", { clearSession: true });
  if (isClaudeMaxTurnsResult(result)) return failed("max_turns_exhausted", { clearSession: true });
  if (isClaudeRefusalResult(result)) return failed("claude_refusal", { errorFamily: "model_refusal" });
  const status = typeof result.api_error_status === "number" ? result.api_error_status : null;
  const text = typeof result.result === "string" ? result.result : "";
  if (result.is_error === true || result.subtype !== "success") {
    if (status === 401 || status === 403 || AUTH_WORDING.test(text)) return failed("llm_auth_error");
    if (status === 429 || isClaudeProviderQuotaError({ parsed: result, stdout: fixture.stdout, stderr: fixture.stderr })) {
      return failed("llm_api_error", { errorFamily: "provider_quota" });
    }
    if (status !== null && (status >= 500 || status === 408)) return failed("llm_api_error", { errorFamily: "transient_upstream" });
    return failed(status === null ? null : "llm_api_error");
  }
  return finished();
}
