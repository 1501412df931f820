/**
 * Records real agent-CLI output for `fixtures/agent-cli-output/<cli>/` (`node scripts/record-fixtures.ts gemini
 * [scenario…]`, with the repo's pinned node): the CLI installed as a devDependency runs headless against the
 * scripted LLM on 127.0.0.1, one scenario at a time, and its stdout, stderr and a meta.json (argv, stdin, env, exit
 * code, duration, the requests the LLM saw) are written with every temporary path rewritten to `/paperclip/fixture/`.
 * Then run `npm run fixtures:verdicts`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startScriptedLlmServer, type LlmRequestRecord } from "../packages/k8s-runtime/src/testing/llm-server/server.ts";
import type { LlmScenario, ScriptedShellTool } from "../packages/k8s-runtime/src/testing/llm-server/scenario.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const fixturesDir = path.join(repoRoot, "fixtures/agent-cli-output");
const PROMPT = "Create out.txt containing hello using the shell.";
const FIXTURE_ROOT = "/paperclip/fixture";

/** One recorded run: what the LLM plays, the CLI's extra flags, and what to do around it. */
interface Recording {
  llm: LlmScenario;
  args?: (earlier: Map<string, RecordedRun>) => string[];
  /** Settings merged over the CLI's recording defaults for this run. */
  settings?: Record<string, unknown>;
  /** Prepares the working directory (e.g. makes the tool's target unwritable). */
  prepare?: (cwd: string) => void;
  /** SIGKILL the CLI once this holds for the LLM's requests and its stdout so far. */
  killWhen?: (requests: LlmRequestRecord[], stdout: string) => boolean;
  note: string;
}

interface RecordedRun {
  stdout: string;
  sessionId: string | null;
}

interface CliRecorder {
  /** Path of the CLI's entry script (run with this node) and the argv[0] recorded for it. */
  entry: string;
  command: string;
  baseArgs: string[];
  /** The CLI's shell tool, as the scripted model calls it. */
  shellTool: ScriptedShellTool;
  env: (baseUrl: string, home: string) => Record<string, string>;
  prepareHome: (home: string, settings: Record<string, unknown>) => void;
  sessionIdOf: (stdout: string) => string | null;
  recordings: Record<string, Recording>;
}

const GEMINI_MODEL = "gemini-2.5-flash";
const BOGUS_SESSION = "00000000-0000-4000-8000-000000000000";

const gemini: CliRecorder = {
  entry: path.join(repoRoot, "node_modules/@google/gemini-cli/bundle/gemini.js"),
  command: "gemini",
  baseArgs: ["--output-format", "stream-json", "--model", GEMINI_MODEL, "--approval-mode", "yolo", "--sandbox=none"],
  shellTool: { name: "run_shell_command", input: (command) => ({ command }) },
  env: (baseUrl, home) => ({
    GEMINI_API_KEY: "dummy",
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    GEMINI_CLI_NO_RELAUNCH: "true",
    GEMINI_CLI_TRUST_WORKSPACE: "true",
    NO_BROWSER: "1",
    TMPDIR: path.join(home, "../../tmp"),
  }),
  prepareHome: (home, settings) => {
    mkdirSync(path.join(home, ".gemini"), { recursive: true });
    const offline = {
      // A base URL alone selects the "gateway" auth type, which this version refuses; the key's own type works.
      security: { auth: { selectedType: "gemini-api-key" } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 2 },
      ide: { enabled: false },
    };
    writeFileSync(path.join(home, ".gemini/settings.json"), `${JSON.stringify({ ...offline, ...settings }, null, 2)}\n`);
  },
  sessionIdOf: (stdout) => {
    const init = stdout.split("\n").find((line) => line.includes('"type":"init"'));
    return init === undefined ? null : (JSON.parse(init) as { session_id?: string }).session_id ?? null;
  },
  recordings: {
    happy: { llm: "happy", note: "" },
    resume: {
      llm: "happy",
      args: (earlier) => ["--resume", earlier.get("happy")?.sessionId ?? "missing-happy-session"],
      note: "resumes the session of happy (same HOME and working directory)",
    },
    "resume-bogus-id": { llm: "happy", args: () => ["--resume", BOGUS_SESSION], note: "a session id this HOME has never seen" },
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
      killWhen: (requests, stdout) => requests.some((request) => request.afterToolResult && request.reply === "text") && /"tool_result"[\s\S]*"role":"assistant"/.test(stdout),
      note: "SIGKILLed while the final reply was streaming",
    },
  },
};

const RECORDERS: Record<string, CliRecorder> = { gemini };

interface RunOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
  killed: string | null;
  durationS: number;
  firstStdoutLineS: number | null;
}

async function runCli(recorder: CliRecorder, argv: string[], env: Record<string, string>, cwd: string, recording: Recording, requests: () => LlmRequestRecord[]): Promise<RunOutcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [recorder.entry, ...argv], { cwd, env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8", ...env }, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let firstStdoutLineS: number | null = null;
  let killed: string | null = null;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    if (firstStdoutLineS === null && stdout.includes("\n")) firstStdoutLineS = (performance.now() - started) / 1000;
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdin.end(PROMPT);
  const watch = recording.killWhen
    ? setInterval(() => {
        if (killed === null && recording.killWhen?.(requests(), stdout)) {
          killed = "SIGKILL";
          child.kill("SIGKILL");
        }
      }, 50)
    : null;
  const deadline = setTimeout(() => child.kill("SIGKILL"), 180_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
  if (watch !== null) clearInterval(watch);
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
  const root = mkdtempSync(path.join(tmpdir(), "record-fixtures-"));
  const home = path.join(root, "homes", cli);
  const cwd = path.join(root, "work", cli);
  mkdirSync(path.join(root, "tmp"), { recursive: true });
  const cliDir = path.dirname(path.dirname(recorder.entry));
  const rewrite = (text: string) => text.replaceAll(root, FIXTURE_ROOT).replaceAll(cliDir, `${FIXTURE_ROOT}/cli`).replaceAll(repoRoot.replace(/\/$/, ""), FIXTURE_ROOT);
  const server = await startScriptedLlmServer();
  const earlier = new Map<string, RecordedRun>();
  const outDir = path.join(fixturesDir, cli);
  mkdirSync(outDir, { recursive: true });
  try {
    for (const [scenario, recording] of Object.entries(recorder.recordings)) {
      // Every scenario runs (resume needs happy's session), only the selected ones are written.
      const runCwd = recording.prepare ? path.join(root, "work", `${cli}-${scenario}`) : cwd;
      mkdirSync(runCwd, { recursive: true });
      recording.prepare?.(runCwd);
      recorder.prepareHome(home, recording.settings ?? {});
      const tag = `${cli}-${scenario}`;
      const argv = [...recorder.baseArgs, ...(recording.args?.(earlier) ?? [])];
      const baseUrl = server.openRun({ scenario: recording.llm, tag, shellTool: recorder.shellTool });
      const env = recorder.env(baseUrl, home);
      const outcome = await runCli(recorder, argv, { ...env, HOME: home }, runCwd, recording, () => server.requests(tag));
      earlier.set(scenario, { stdout: outcome.stdout, sessionId: recorder.sessionIdOf(outcome.stdout) });
      console.log(`${cli}/${scenario}: exit ${outcome.exitCode}${outcome.killed ? ` (${outcome.killed})` : ""}, ${outcome.durationS}s`);
      if (only.length > 0 && !only.includes(scenario)) continue;
      const meta = {
        cli,
        scenario,
        mock_scenario: recording.llm,
        base_url: rewrite(baseUrl),
        cmd: [recorder.command, ...argv],
        // What the runtime would tell `interpret` (RunFacts).
        model: argv.includes("--model") ? (argv[argv.indexOf("--model") + 1] ?? null) : null,
        resume_session_id: argv.includes("--resume") ? (argv[argv.indexOf("--resume") + 1] ?? null) : null,
        stdin: PROMPT,
        cwd: rewrite(runCwd),
        env: Object.fromEntries(Object.entries({ LANG: "C.UTF-8", HOME: home, ...env }).map(([key, value]) => [key, rewrite(value)])),
        settings: JSON.parse(readFileSync(path.join(home, ".gemini/settings.json"), "utf8")) as unknown,
        exit_code: outcome.exitCode,
        killed: outcome.killed,
        duration_s: outcome.durationS,
        first_stdout_line_s: outcome.firstStdoutLineS,
        stdout_lines: outcome.stdout.split("\n").filter((line) => line.trim() !== "").length,
        note: recording.note,
        mock_requests: server.requests(tag).map((request) => ({
          seq: request.seq,
          method: request.method,
          url: rewrite(request.url),
          status: request.status,
          decision: request.reply,
          model: request.model,
          stream: request.stream,
          n_tools: request.toolCount,
        })),
      };
      writeFileSync(path.join(outDir, `${scenario}.stdout`), rewrite(outcome.stdout));
      writeFileSync(path.join(outDir, `${scenario}.stderr`), rewrite(outcome.stderr));
      writeFileSync(path.join(outDir, `${scenario}.meta.json`), `${JSON.stringify(meta, null, 1)}\n`);
    }
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const [cli = "", ...scenarios] = process.argv.slice(2);
await record(cli, scenarios);
