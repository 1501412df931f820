/**
 * Test support: the real CLI output kept in `fixtures/agent-cli-output/<cli>/` (see its README for how
 * it was recorded).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OutputParser, PodOutcome, RunFacts } from "../agent.ts";
import { isJsonObject, type JsonObject } from "../agent-kit/json-fields.ts";

/** The real CLI output recorded for tests: `fixtures/agent-cli-output/` at the repository root. */
export const agentCliFixturesDir = fileURLToPath(new URL("../../../../fixtures/agent-cli-output/", import.meta.url));

export interface CliFixture {
  cli: string;
  scenario: string;
  stdout: string;
  stderr: string;
  /** The recorded argv (argv[0] is the CLI). */
  argv: string[];
  /** Everything recorded about the run (`<scenario>.meta.json`): stdin, env, exit code, LLM requests. */
  meta: JsonObject;
  /** How the pod would report this run. */
  outcome: PodOutcome;
  /** What the run asked for (meta.json's optional `model` and `resume_session_id`), as `interpret` is told. */
  facts: RunFacts;
}

/** The recorded scenarios of one CLI (`claude`, `opencode`), sorted. */
export function cliFixtureScenarios(cli: string): string[] {
  return readdirSync(path.join(agentCliFixturesDir, cli))
    .filter((name) => name.endsWith(".meta.json"))
    .map((name) => name.slice(0, -".meta.json".length))
    .sort();
}

export function readCliFixture(cli: string, scenario: string): CliFixture {
  const read = (suffix: string) => readFileSync(path.join(agentCliFixturesDir, cli, `${scenario}.${suffix}`), "utf8");
  const meta: unknown = JSON.parse(read("meta.json"));
  if (!isJsonObject(meta) || typeof meta.exit_code !== "number" || !Array.isArray(meta.cmd)) {
    throw new Error(`fixture ${cli}/${scenario}: meta.json lacks exit_code or cmd`);
  }
  const stderr = read("stderr");
  const stdout = read("stdout");
  return {
    cli,
    scenario,
    stdout,
    stderr,
    argv: meta.cmd.filter((arg): arg is string => typeof arg === "string"),
    meta,
    outcome: podOutcome(meta.exit_code, stderr, stdout.split("\n").filter((line) => line.trim() !== "").length),
    facts: {
      model: typeof meta.model === "string" ? meta.model : null,
      resumeSessionId: typeof meta.resume_session_id === "string" ? meta.resume_session_id : null,
    },
  };
}

/** A negative recorded exit code means the CLI was killed by that signal; a container reports 128 + n. */
function podOutcome(recordedExitCode: number, stderr: string, stdoutLines: number): PodOutcome {
  if (recordedExitCode < 0) {
    const signal = -recordedExitCode === 9 ? "SIGKILL" : -recordedExitCode === 15 ? "SIGTERM" : `signal ${-recordedExitCode}`;
    const exitCode = 128 - recordedExitCode;
    return { exitCode, signal, reason: "Error", description: `container exited ${exitCode} (${signal})`, stderrTail: stderr, stdoutLines };
  }
  return {
    exitCode: recordedExitCode,
    signal: null,
    reason: recordedExitCode === 0 ? "Completed" : "Error",
    description: `container exited ${recordedExitCode}`,
    stderrTail: stderr,
    stdoutLines,
  };
}

/** Feeds every line of `stdout` to the parser, one at a time, as the runtime does, and returns its result. */
export function parseStdout<T>(parser: OutputParser<T>, stdout: string): T {
  for (const line of stdout.split("\n")) parser.push(line);
  return parser.result();
}
