/**
 * The verdict of an outside authority on a recorded OpenCode run, for `npm run fixtures:verdicts` and the
 * tests: Paperclip's own opencode_local parsers read the transcript, the recorded exit code says how the CLI
 * ended, and the shared policies of DESIGN §2-3 (empty reply, refused start, output cut short, refused
 * credentials) are applied to that reading. It never calls this package's parser or `interpret`. Test support
 * only: not built, not published.
 */
import { isOpenCodeUnknownSessionError, parseOpenCodeJsonl } from "@paperclipai/adapter-opencode-local/server";
import { isJsonObject, type JsonObject } from "paperclip-k8s-runtime/agent-kit";
import { oracleVerdicts, type CliFixture, type FixtureVerdict } from "paperclip-k8s-runtime/testing";

const AUTHORITY = "@paperclipai/adapter-opencode-local 2026.916.1 (parseOpenCodeJsonl, isOpenCodeUnknownSessionError) and the recorded exit code";

/** The raw events of a transcript: Paperclip's parser keeps neither the error's HTTP status nor the step reasons. */
function events(stdout: string): JsonObject[] {
  return stdout.split("\n").flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return isJsonObject(value) ? [value] : [];
    } catch {
      return [];
    }
  });
}

function field(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = isJsonObject(current) ? current[key] : undefined;
  return current;
}

export function openCodeVerdictOracle(fixture: CliFixture): FixtureVerdict {
  const reading = parseOpenCodeJsonl(fixture.stdout);
  const verdicts = oracleVerdicts(AUTHORITY, fixture, reading);
  const { exitCode, failed, unfinished } = verdicts;
  const lines = events(fixture.stdout);
  if ((exitCode !== 0 || reading.errorMessage !== null) && isOpenCodeUnknownSessionError(fixture.stdout, fixture.stderr)) {
    return failed("session_unavailable", { clearSession: true });
  }
  if (reading.errorMessage !== null) {
    const errors = lines.filter((line) => line.type === "error").map((line) => field(line, "error", "data"));
    const statuses = errors.map((data) => field(data, "statusCode")).filter((status): status is number => typeof status === "number");
    if (statuses.some((status) => status === 401 || status === 403)) return failed("llm_auth_error");
    if (statuses.includes(429)) return failed("llm_api_error", { errorFamily: "provider_quota" });
    if (statuses.some((status) => status >= 500) || errors.some((data) => field(data, "isRetryable") === true)) {
      return failed("llm_api_error", { errorFamily: "transient_upstream" });
    }
    return failed("llm_api_error");
  }
  const lastStep = lines.findLastIndex((line) => line.type === "step_finish" || line.type === "step_start");
  const finished = lastStep >= 0 && lines[lastStep]?.type === "step_finish" && field(lines[lastStep], "part", "reason") === "stop";
  return finished ? verdicts.finished() : unfinished("opencode_truncated");
}
