/**
 * Test support: the verdict an outside authority gives each recorded fixture (`<scenario>.verdict.json` beside
 * it, written by `npm run fixtures:verdicts` from Paperclip's own parsers and the recorded exit code), and the
 * comparison of a run's result with it. The conformance suite checks `execute()` against these verdicts, never
 * against the adapter's own `interpret()`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { AdapterExecutionResult, UsageSummary } from "@paperclipai/adapter-utils";
import type { AdapterExecutionErrorFamily } from "@paperclipai/adapter-utils/types";
import { isDeepStrictEqual } from "node:util";
import type { AgentDefinition } from "../agent.ts";
import { isJsonObject } from "../agent-kit/json-fields.ts";
import { buildRunResult } from "../run-result.ts";
import { agentCliFixturesDir, parseStdout, type CliFixture } from "./agent-cli-fixtures.ts";

/** What the authority reads from a fixture, and what the run must therefore report. */
export interface FixtureVerdict {
  /** Who said so: the parsers and package versions the verdict came from. */
  authority: string;
  /** The container's exit code (a CLI killed by signal N exits 128 + N). */
  exitCode: number;
  /** Paperclip would count the run as succeeded (exit 0 and no error). */
  succeeded: boolean;
  /** The session the transcript names; a run that clears its session reports none. */
  sessionId: string | null;
  usage: UsageSummary | null;
  costUsd: number | null;
  summary: string;
  errorCode: string | null;
  errorFamily: AdapterExecutionErrorFamily | null;
  /** The session must not be resumed (unknown session, turn limit). */
  clearSession: boolean;
}

/** What Paperclip's own parser of a CLI reads from a transcript (the fields both sides have an opinion on). */
export interface OracleReading {
  sessionId: string | null;
  usage: UsageSummary | null;
  costUsd: number | null;
  summary: string;
}

/**
 * How an oracle states its verdicts on one fixture: the reading and the recorded exit code are the same in every
 * verdict; what differs is success or the failure's code. The policies every CLI shares are here once.
 */
export function oracleVerdicts(authority: string, fixture: CliFixture, reading: OracleReading) {
  const exitCode = fixture.outcome.exitCode ?? -1;
  const base = {
    authority,
    exitCode,
    sessionId: reading.sessionId,
    usage: reading.usage,
    costUsd: reading.costUsd,
    summary: reading.summary,
    errorFamily: null,
    clearSession: false,
  };
  const failed = (errorCode: string | null, extra: Partial<FixtureVerdict> = {}): FixtureVerdict => ({ ...base, succeeded: false, errorCode, ...extra });
  return {
    exitCode,
    failed,
    /** No terminal event: a CLI that printed nothing and exited non-zero refused to start; otherwise its output was cut short. */
    unfinished: (truncatedCode: string): FixtureVerdict =>
      failed(fixture.stdout.trim() === "" && exitCode > 0 && fixture.outcome.signal === null ? "agent_start_failed" : truncatedCode),
    /** After a finished turn: an empty reply is a transient provider error, a non-zero exit a failure, anything else success. */
    finished: (): FixtureVerdict => {
      if (reading.summary.trim() === "" && (reading.usage?.outputTokens ?? 0) === 0) return failed("llm_api_error", { errorFamily: "transient_upstream" });
      return exitCode !== 0 ? failed(null) : { ...base, succeeded: true, errorCode: null };
    },
  };
}

export function fixtureVerdictPath(cli: string, scenario: string): string {
  return path.join(agentCliFixturesDir, cli, `${scenario}.verdict.json`);
}

/** The stored verdict of a fixture; a missing or malformed file is an error naming it and the fix. */
export function readFixtureVerdict(cli: string, scenario: string): FixtureVerdict {
  const file = fixtureVerdictPath(cli, scenario);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`fixture verdict ${file} is missing or not JSON (run \`npm run fixtures:verdicts\`): ${String(error)}`);
  }
  if (!isFixtureVerdict(value)) throw new Error(`fixture verdict ${file} lacks a field of FixtureVerdict (run \`npm run fixtures:verdicts\`)`);
  return value;
}

function isFixtureVerdict(value: unknown): value is FixtureVerdict {
  if (!isJsonObject(value)) return false;
  const nullable = (key: string, type: "string" | "number" | "object") => value[key] === null || typeof value[key] === type;
  return (
    typeof value.authority === "string" &&
    typeof value.exitCode === "number" &&
    typeof value.succeeded === "boolean" &&
    nullable("sessionId", "string") &&
    nullable("usage", "object") &&
    nullable("costUsd", "number") &&
    typeof value.summary === "string" &&
    nullable("errorCode", "string") &&
    nullable("errorFamily", "string") &&
    typeof value.clearSession === "boolean"
  );
}

/** Every way `result` disagrees with the verdict, in words (empty when it agrees). */
export function verdictMismatches(result: AdapterExecutionResult, verdict: FixtureVerdict): string[] {
  const succeeded = result.exitCode === 0 && !result.errorMessage && !result.timedOut;
  const expectedSessionId = verdict.clearSession ? null : verdict.sessionId;
  const checks: [string, unknown, unknown][] = [
    ["exitCode", result.exitCode ?? null, verdict.exitCode],
    ["succeeded", succeeded, verdict.succeeded],
    ["errorCode", result.errorCode ?? null, verdict.errorCode],
    ["errorFamily", result.errorFamily ?? null, verdict.errorFamily],
    ["clearSession", result.clearSession ?? false, verdict.clearSession],
    ["sessionId", result.sessionId ?? null, expectedSessionId],
    ["sessionParams.sessionId", result.sessionParams?.sessionId ?? null, expectedSessionId],
    ["usage", result.usage ?? null, verdict.usage],
    ["costUsd", result.costUsd ?? null, verdict.costUsd],
    ["summary", result.summary ?? "", verdict.summary],
  ];
  const mismatches = checks
    .filter(([, actual, expected]) => !isDeepStrictEqual(actual, expected))
    .map(([field, actual, expected]) => `${field}: got ${JSON.stringify(actual)}, the verdict says ${JSON.stringify(expected)}`);
  if (!succeeded && !result.errorMessage) mismatches.push("errorMessage: a failed run must say why");
  return mismatches;
}

/**
 * A fixture through the agent's parser and `interpret` and the runtime's result step, as `execute()` would end
 * it, without a cluster: for unit tests of the verdict comparison.
 */
export function replayFixture<TParsed>(agent: AgentDefinition<TParsed>, fixture: CliFixture): AdapterExecutionResult {
  const verdict = agent.interpret(parseStdout(agent.createParser(), fixture.stdout), fixture.outcome, fixture.facts);
  return buildRunResult(verdict, fixture.outcome, {
    deadlineExceeded: false,
    timeoutSec: 0,
    cwd: "/workspace",
    workspace: { cwd: null, source: null, strategy: null, workspaceId: null, repoUrl: null, repoRef: null, branchName: null, worktreePath: null, agentHome: null },
    jobName: "replay",
    namespace: "replay",
    reattached: false,
  });
}
