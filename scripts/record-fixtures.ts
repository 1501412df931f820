/**
 * Records real agent-CLI output for `fixtures/agent-cli-output/<cli>/` (`node --conditions=source
 * scripts/record-fixtures.ts <cli> [scenario…]`, with the repo's pinned node): the CLI installed as a devDependency,
 * launched as its real-CLI spec's image launches it, runs headless against the scripted LLM on 127.0.0.1, one scenario
 * at a time in one HOME, and its stdout, stderr and a meta.json (argv, stdin, env, the RunFacts `model` and
 * `resume_session_id`, exit code — negative for "killed by signal N" —, durations, the requests the LLM saw) are written
 * with every scratch and install path rewritten to `/paperclip/fixture/`. Then run `npm run fixtures:verdicts`.
 * A CLI is one entry of `RECORDERS`: what is the same fact as in its adapter's `real-cli-spec.ts` is taken from there.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { CODEX_SCRIPTED_MODEL, codexRealCliSpec, scriptedProviderArgs } from "../packages/adapter-codex/src/real-cli-spec.ts";
import { GEMINI_SCRIPTED_MODEL, geminiRealCliSpec } from "../packages/adapter-gemini/src/real-cli-spec.ts";
import { startScriptedLlmServer, type LlmRequestRecord } from "../packages/k8s-runtime/src/testing/llm-server/server.ts";
import type { LlmScenario } from "../packages/k8s-runtime/src/testing/llm-server/scenario.ts";
import type { RealCliSpec } from "../packages/k8s-runtime/src/testing/real-cli-spec.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const fixturesDir = path.join(repoRoot, "fixtures/agent-cli-output");
/** The task of every recording (the same as the real-CLI tests'); the scripted model answers it with its shell command. */
const PROMPT = "Create out.txt containing hello using the shell.";
const FIXTURE_ROOT = "/paperclip/fixture";
const UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000";

/** What the CLI may watch while a recording runs (to decide when to kill it). */
interface RunWatch {
  requests(): LlmRequestRecord[];
  stdout(): string;
  /** Aborted once the CLI has exited, so a watch never outlives its run. */
  signal: AbortSignal;
}

/** One recorded run: what the LLM plays and what the run asks for beyond the CLI's defaults. */
interface Recording {
  llm: LlmScenario;
  /** The session the run resumes (the runtime's `RunFacts.resumeSessionId`), given the session ids earlier recordings printed. */
  resume?: (sessions: ReadonlyMap<string, string>) => string;
  /** CLI settings for the spec's `env` (merged over its offline defaults). */
  settings?: Record<string, unknown>;
  /** Environment over the CLI's; `/paperclip/fixture` in a value stands for the scratch directory. */
  env?: Record<string, string>;
  /** Prepares the run's own working directory (e.g. makes the tool's target unwritable). */
  prepare?: (cwd: string) => void;
  /** Resolves when the CLI should be SIGKILLed. */
  killWhen?: (watch: RunWatch) => Promise<void>;
  note: string;
}

/** Where one run's CLI talks to and lives. */
interface RunPlace {
  baseUrl: string;
  /** A scratch temporary directory, rewritten like every scratch path. */
  tmp: string;
}

/** How to record one CLI. */
interface CliRecorder {
  /** The adapter's real-CLI spec: how its image launches the CLI, the shell tool the scripted model calls, the env that points it at the LLM. */
  spec: RealCliSpec;
  /** The npm package whose version is the recorded `cli_version`. */
  versionPackage: string;
  /** The model the recordings ask for (the runtime's `RunFacts.model`). */
  model: string;
  /** The argv after the executable's name, for a run on `baseUrl` resuming `resumeSessionId` (or not). */
  args(run: RunPlace, resumeSessionId: string | null): string[];
  /** Environment beyond the spec's (which is for the pod's launcher), LANG and HOME. */
  env(run: RunPlace): Record<string, string>;
  /** The CLI's settings file under HOME, read back into meta.json's `settings`, if it has one. */
  settingsFile?: string;
  /** The session id a transcript names. */
  sessionIdOf(stdout: string): string | null;
  recordings: Record<string, Recording>;
}

/** Resolves once `condition` holds; rejects when `signal` aborts first. */
async function until(condition: () => boolean, signal: AbortSignal): Promise<void> {
  while (!condition()) await delay(50, undefined, { signal });
}

const finalReplyRequested = (requests: LlmRequestRecord[]) => requests.some((request) => request.afterToolResult && request.reply === "text");

const codex: CliRecorder = {
  spec: codexRealCliSpec,
  versionPackage: "@openai/codex",
  model: CODEX_SCRIPTED_MODEL,
  // What the adapter puts first (bypass, model), then the spec's extraArgs; `resume` is a trailing subcommand.
  args: ({ baseUrl }, resumeSessionId) => [
    "exec",
    "--json",
    "--dangerously-bypass-approvals-and-sandbox",
    "--model",
    CODEX_SCRIPTED_MODEL,
    ...scriptedProviderArgs(baseUrl),
    ...(resumeSessionId === null ? [] : ["resume", resumeSessionId]),
    "-",
  ],
  env: () => ({}),
  sessionIdOf: (stdout) => /"type":"thread\.started","thread_id":"([^"]+)"/.exec(stdout)?.[1] ?? null,
  recordings: {
    happy: { llm: "happy", note: "a shell tool call (exec_command), then final text" },
    resume: {
      llm: "happy",
      resume: (sessions) => sessionOf(sessions, "happy"),
      note: "resumes happy's thread (same HOME and cwd); turn.completed usage is the thread's running total",
    },
    "resume-bogus-id": { llm: "happy", resume: () => "bogus-thread-id", note: "a non-UUID id Codex does not know: it silently starts a NEW thread and exits 0" },
    "resume-bogus-uuid": { llm: "happy", resume: () => UNKNOWN_UUID, note: "a UUID Codex has no rollout for: exit 1 before any output" },
    err500: { llm: "error500", note: "every LLM request answers HTTP 500 (request_max_retries=1, stream_max_retries=1)" },
    err401: { llm: "error401", note: "the LLM answers HTTP 401 (invalid API key)" },
    empty: { llm: "empty", note: "a well-formed response with no output items and 0 output tokens" },
    "tool-error": {
      llm: "happy",
      prepare: (cwd) => mkdirSync(path.join(cwd, "out.txt")),
      note: "out.txt is a directory, so the tool call `echo hello > out.txt` exits 1",
    },
    "killed-midstream": {
      llm: "stall",
      killWhen: async ({ requests, signal }) => {
        await until(() => finalReplyRequested(requests()), signal);
        await delay(1000, undefined, { signal });
      },
      note: "tool call, then the final-text stream stalls after its first delta; SIGKILL 1 s after that request",
    },
    "codex-home-missing": {
      llm: "happy",
      env: { CODEX_HOME: `${FIXTURE_ROOT}/does-not-exist` },
      note: "CODEX_HOME names a directory that does not exist: Codex refuses to start",
    },
  },
};

const gemini: CliRecorder = {
  // The spec's image runs the CLI's script with the pinned node, after writing the settings its env carries to ~/.gemini/settings.json.
  spec: geminiRealCliSpec,
  versionPackage: "@google/gemini-cli",
  model: GEMINI_SCRIPTED_MODEL,
  args: (_run, resumeSessionId) => [
    "--output-format",
    "stream-json",
    "--model",
    GEMINI_SCRIPTED_MODEL,
    "--approval-mode",
    "yolo",
    "--sandbox=none",
    ...(resumeSessionId === null ? [] : ["--resume", resumeSessionId]),
  ],
  // What the adapter's command sets (one process, a trusted folder, no browser), and a scratch TMPDIR.
  env: ({ tmp }) => ({ GEMINI_CLI_NO_RELAUNCH: "true", GEMINI_CLI_TRUST_WORKSPACE: "true", NO_BROWSER: "1", TMPDIR: tmp }),
  settingsFile: ".gemini/settings.json",
  sessionIdOf: (stdout) => {
    const init = stdout.split("\n").find((line) => line.includes('"type":"init"'));
    if (init === undefined) return null;
    const event: unknown = JSON.parse(init);
    return typeof event === "object" && event !== null && "session_id" in event && typeof event.session_id === "string" ? event.session_id : null;
  },
  recordings: {
    happy: { llm: "happy", note: "" },
    resume: { llm: "happy", resume: (sessions) => sessionOf(sessions, "happy"), note: "resumes the session of happy (same HOME and working directory)" },
    "resume-bogus-id": { llm: "happy", resume: () => UNKNOWN_UUID, note: "a session id this HOME has never seen" },
    err500: { llm: "error500", note: "every request answers 500; settings general.maxAttempts 2" },
    error401: { llm: "error401", note: "the API refuses the key (401)" },
    err429: { llm: "error429", note: "every request answers 429 (rate limited); settings general.maxAttempts 2" },
    empty: { llm: "empty", note: "the model answers STOP with no parts and no output tokens" },
    "tool-error": {
      llm: "happy",
      prepare: (cwd) => mkdirSync(path.join(cwd, "out.txt")),
      note: "out.txt is a directory, so the shell command fails",
    },
    "max-turns": { llm: "loop", settings: { model: { maxSessionTurns: 1 } }, note: "the model keeps calling tools; settings model.maxSessionTurns 1" },
    "killed-midstream": {
      llm: "stall",
      killWhen: ({ requests, stdout, signal }) => until(() => finalReplyRequested(requests()) && /"tool_result"[\s\S]*"role":"assistant"/.test(stdout()), signal),
      note: "SIGKILLed while the final reply was streaming",
    },
  },
};

const RECORDERS: Record<string, CliRecorder> = { codex, gemini };

function sessionOf(sessions: ReadonlyMap<string, string>, scenario: string): string {
  const id = sessions.get(scenario);
  if (id === undefined) throw new Error(`this recording resumes the session of ${scenario}, which printed none`);
  return id;
}

const requireFromRoot = createRequire(path.join(repoRoot, "package.json"));

function installedVersion(name: string): string {
  const manifest: unknown = requireFromRoot(`${name}/package.json`);
  if (typeof manifest !== "object" || manifest === null || !("version" in manifest) || typeof manifest.version !== "string") {
    throw new Error(`${name}/package.json has no version`);
  }
  return manifest.version;
}

/** The host command line the spec's image starts (e.g. the binary, or node and a script), and the CLI's own install directory. */
function launcherOf(spec: RealCliSpec): { command: string[]; cliDir: string } {
  const image = spec.image();
  const command = image.entrypoint.map((file) => {
    const layer = image.layers[file.layer];
    if (layer === undefined) throw new Error(`the ${spec.cli} image's entrypoint names layer ${file.layer}, which it does not have`);
    return path.join(layer, file.path);
  });
  const cliLayer = image.layers[image.entrypoint.at(-1)?.layer ?? -1];
  if (cliLayer === undefined) throw new Error(`the ${spec.cli} image has no entrypoint`);
  return { command, cliDir: cliLayer };
}

interface RunOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
  killed: string | null;
  durationS: number;
  firstStdoutLineS: number | null;
}

async function runCli(command: string[], env: Record<string, string>, cwd: string, recording: Recording, requests: () => LlmRequestRecord[]): Promise<RunOutcome> {
  const [executable = "", ...args] = command;
  const started = performance.now();
  const child = spawn(executable, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let firstStdoutLineS: number | null = null;
  let killed: string | null = null;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (firstStdoutLineS === null && stdout.includes("\n")) firstStdoutLineS = (performance.now() - started) / 1000;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(PROMPT);
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (code, signal) => resolve([code, signal])));
  const watching = new AbortController();
  recording.killWhen?.({ requests, stdout: () => stdout, signal: watching.signal }).then(
    () => {
      if (watching.signal.aborted) return;
      killed = "SIGKILL";
      child.kill("SIGKILL");
    },
    // The CLI exited before the moment came: nothing to kill.
    () => undefined,
  );
  const deadline = setTimeout(() => child.kill("SIGKILL"), 180_000);
  const [code, signal] = await exited;
  watching.abort();
  clearTimeout(deadline);
  const exitCode = code ?? (signal === "SIGKILL" ? -9 : signal === "SIGTERM" ? -15 : -1);
  return { stdout, stderr, exitCode, killed, durationS: round((performance.now() - started) / 1000), firstStdoutLineS: firstStdoutLineS === null ? null : round(firstStdoutLineS) };
}

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

async function record(cli: string, only: string[]): Promise<void> {
  const recorder = RECORDERS[cli];
  if (recorder === undefined) throw new Error(`no recorder for ${JSON.stringify(cli)}; known: ${Object.keys(RECORDERS).join(", ")}`);
  const unknown = only.filter((scenario) => !(scenario in recorder.recordings));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(", ")}; known: ${Object.keys(recorder.recordings).join(", ")}`);
  const launcher = launcherOf(recorder.spec);
  const version = installedVersion(recorder.versionPackage);
  // Not under /tmp: Codex will not put its helper binaries in a temporary directory and warns on stderr, which a
  // pod (HOME on the shared volume) never sees.
  const scratch = mkdtempSync(path.join("/var/tmp", `record-${cli}-`));
  const rewrite = (text: string) => text.replaceAll(scratch, FIXTURE_ROOT).replaceAll(launcher.cliDir, `${FIXTURE_ROOT}/cli`).replaceAll(repoRoot, FIXTURE_ROOT);
  const home = path.join(scratch, "homes", cli);
  const tmp = path.join(scratch, "tmp");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const outDir = path.join(fixturesDir, cli);
  mkdirSync(outDir, { recursive: true });
  const server = await startScriptedLlmServer();
  const sessions = new Map<string, string>();
  try {
    for (const [scenario, recording] of Object.entries(recorder.recordings)) {
      // Every scenario runs in one HOME (resume needs happy's session) and, unless it prepares its own, one working
      // directory; only the selected ones are written.
      const cwd = path.join(scratch, "work", recording.prepare ? `${cli}-${scenario}` : cli);
      mkdirSync(cwd, { recursive: true });
      recording.prepare?.(cwd);
      const tag = `${cli}-${scenario}`;
      const baseUrl = server.openRun({ scenario: recording.llm, tag, cli: { shellTool: recorder.spec.shellTool, stepLimitNotice: recorder.spec.stepLimitNotice } });
      const place = { baseUrl, tmp };
      const resumeSessionId = recording.resume?.(sessions) ?? null;
      const args = recorder.args(place, resumeSessionId);
      const env = { LANG: "C.UTF-8", HOME: home, ...recorder.spec.env({ baseUrl, settings: recording.settings ?? {} }), ...recorder.env(place), ...recording.env };
      const runEnv = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll(FIXTURE_ROOT, scratch)]));
      const requests = () => server.requests(tag);
      const outcome = await runCli([...launcher.command, ...args], { PATH: process.env.PATH ?? "/usr/bin:/bin", ...runEnv }, cwd, recording, requests);
      const session = recorder.sessionIdOf(outcome.stdout);
      if (session !== null) sessions.set(scenario, session);
      console.log(`${cli}/${scenario}: exit ${outcome.exitCode}${outcome.killed ? ` (${outcome.killed})` : ""}, ${outcome.durationS}s, ${requests().length} LLM requests`);
      if (only.length > 0 && !only.includes(scenario)) continue;
      const meta = {
        cli,
        cli_version: version,
        scenario,
        mock_scenario: recording.llm,
        base_url: baseUrl,
        cmd: [recorder.spec.cli, ...args],
        // What the runtime would tell `interpret` (RunFacts).
        model: recorder.model,
        resume_session_id: resumeSessionId,
        stdin: PROMPT,
        cwd,
        env,
        ...(recorder.settingsFile === undefined ? {} : { settings: JSON.parse(readFileSync(path.join(home, recorder.settingsFile), "utf8")) as unknown }),
        exit_code: outcome.exitCode,
        killed: outcome.killed,
        duration_s: outcome.durationS,
        first_stdout_line_s: outcome.firstStdoutLineS,
        stdout_lines: outcome.stdout.split("\n").filter((line) => line.trim() !== "").length,
        note: recording.note,
        mock_requests: requests().map((request) => ({
          seq: request.seq,
          method: request.method,
          url: request.url,
          status: request.status,
          decision: request.reply,
          model: request.model,
          stream: request.stream,
          n_tools: request.toolCount,
          n_input: request.messageCount,
        })),
      };
      writeFileSync(path.join(outDir, `${scenario}.stdout`), rewrite(outcome.stdout));
      writeFileSync(path.join(outDir, `${scenario}.stderr`), rewrite(outcome.stderr));
      writeFileSync(path.join(outDir, `${scenario}.meta.json`), `${rewrite(JSON.stringify(meta, null, 1))}\n`);
    }
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const [cli = "", ...scenarios] = process.argv.slice(2);
await record(cli, scenarios);
