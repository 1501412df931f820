/**
 * The verdict of an outside authority on a recorded Codex run, for `npm run fixtures:verdicts` and the tests:
 * Paperclip's own codex_local parsers read the transcript, the recorded exit code says how the CLI ended, and the
 * shared policies of DESIGN §2-3 (empty reply, refused start, output cut short, refused credentials) are applied to
 * that reading. It never calls this package's parser or `interpret`. Test support only: not built, not published.
 */
import {
  isCodexProviderQuotaError,
  isCodexTransientUpstreamError,
  isCodexUnknownSessionError,
  parseCodexJsonl,
} from "@paperclipai/adapter-codex-local/server";
import { oracleVerdicts, type CliFixture, type FixtureVerdict } from "paperclip-k8s-runtime/testing";

const AUTHORITY =
  "@paperclipai/adapter-codex-local 2026.916.1 (parseCodexJsonl, isCodexUnknownSessionError, isCodexProviderQuotaError, isCodexTransientUpstreamError) and the recorded exit code";

export function codexVerdictOracle(fixture: CliFixture): FixtureVerdict {
  const reading = parseCodexJsonl(fixture.stdout);
  // Codex reports no cost; Paperclip's codex_local reports null.
  const verdicts = oracleVerdicts(AUTHORITY, fixture, { ...reading, costUsd: null });
  const { exitCode, failed, unfinished } = verdicts;
  if (exitCode !== 0 && reading.sessionId === null && isCodexUnknownSessionError(fixture.stdout, fixture.stderr)) {
    return failed("session_unavailable", { clearSession: true });
  }
  // The policy for Codex's silent replacement of a thread it does not know: the recorded request against Paperclip's reading.
  const resumed = fixture.facts.resumeSessionId;
  if (resumed !== null && reading.sessionId !== null && reading.sessionId !== resumed) return failed("session_unavailable", { clearSession: true });
  const turnFailed = fixture.stdout.split("\n").some((line) => line.includes('"type":"turn.failed"'));
  if (reading.errorMessage !== null && (turnFailed || (exitCode > 0 && exitCode < 128))) {
    const input = { stdout: fixture.stdout, stderr: fixture.stderr, errorMessage: reading.errorMessage };
    // Paperclip keeps the provider's HTTP status only in Codex's wording: `unexpected status 401 Unauthorized`.
    if (/\bunexpected status 40[13]\b/.test(reading.errorMessage)) return failed("llm_auth_error");
    if (isCodexProviderQuotaError(input)) return failed("llm_api_error", { errorFamily: "provider_quota" });
    if (isCodexTransientUpstreamError(input)) return failed("llm_api_error", { errorFamily: "transient_upstream" });
    return failed("llm_api_error");
  }
  const completed = fixture.stdout.split("\n").some((line) => line.includes('"type":"turn.completed"'));
  return completed ? verdicts.finished() : unfinished("codex_truncated");
}
