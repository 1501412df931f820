/**
 * Records real agent-CLI output for `fixtures/agent-cli-output/<cli>/` (`node --conditions=source
 * scripts/record-fixtures.ts codex`): runs the real CLI (the pinned devDependency) headless on this machine
 * against the scripted LLM on 127.0.0.1, one scenario at a time, and writes `<scenario>.stdout`, `.stderr` and
 * `.meta.json` (argv, stdin, env, exit code — negative for "killed by signal N" —, durations, the requests the
 * LLM saw), with the recording's scratch paths rewritten to `/paperclip/fixture/`. Run `npm run
 * fixtures:verdicts` afterwards.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { REAL_CLI_PROMPT } from "../packages/k8s-runtime/src/testing/real-cli.ts";
import type { LlmScenario } from "../packages/k8s-runtime/src/testing/llm-server/scenario.ts";
import { startScriptedLlmServer, type LlmRequestRecord, type ScriptedLlmServer } from "../packages/k8s-runtime/src/testing/llm-server/server.ts";

const FIXTURE_ROOT = "/paperclip/fixture";
const SCRIPTED_MODEL = "scripted-model";
const fixturesDir = fileURLToPath(new URL("../fixtures/agent-cli-output/", import.meta.url));

/** One recorded run: what the CLI is asked and how the scripted LLM answers. */
interface Recipe {
  scenario: string;
  llm: LlmScenario;
  /** The session the run asks to resume (the runtime's `RunFacts.resumeSessionId`), if any. */
  resumeSessionId?(context: RecipeContext): string;
  /** The argv after the executable's name. */
  args(context: RecipeContext): string[];
  /** Environment beyond LANG and HOME. */
  env?: Record<string, string>;
  /** Runs before the CLI starts (e.g. to make the tool call fail). */
  prepare?(context: RecipeContext): void;
  /** Resolves when the CLI should be SIGKILLed. */
  killWhen?(requests: () => LlmRequestRecord[]): Promise<void>;
  note: string;
}

interface RecipeContext {
  llm: ScriptedLlmServer;
  tag: string;
  home: string;
  cwd: string;
  /** Session ids printed by earlier recipes of this recording, by scenario. */
  sessions: Map<string, string>;
}

interface CliRecording {
  /** The host path of the real binary. */
  binary: string;
  version: string;
  /** The model the recipes ask for (the runtime's `RunFacts.model`). */
  model: string;
  recipes: Recipe[];
  /** The session id a transcript names. */
  sessionOf(stdout: string): string | null;
}

const requireFromAdapter = (dir: string) => createRequire(fileURLToPath(new URL(`../packages/${dir}/package.json`, import.meta.url)));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await delay(50);
}

function codexRecording(): CliRecording {
  const require = requireFromAdapter("adapter-codex");
  const manifest = require("@openai/codex/package.json") as { version: string };
  const platformDir = path.dirname(require.resolve(`@openai/codex-${process.platform}-${process.arch}/package.json`));
  const binary = path.join(platformDir, "vendor", `${process.arch === "x64" ? "x86_64" : "aarch64"}-unknown-linux-musl`, "bin", "codex");
  // What the adapter adds (bypass, model), then the operator's extraArgs pointing Codex at the scripted LLM,
  // offline: no plugin sync (github.com, chatgpt.com), no analytics, one retry.
  const base = ({ llm, tag }: RecipeContext, scenario: LlmScenario) => [
    "exec",
    "--json",
    "--dangerously-bypass-approvals-and-sandbox",
    "--model",
    SCRIPTED_MODEL,
    "-c",
    `model_providers.scripted={ name = "Scripted LLM", base_url = "${llm.openAiBaseUrl(scenario, tag)}", wire_api = "responses", env_key = "OPENAI_API_KEY", request_max_retries = 1, stream_max_retries = 1 }`,
    "-c",
    "model_provider=scripted",
    "-c",
    "analytics.enabled=false",
    "--disable",
    "plugins",
  ];
  const fresh = (scenario: string, llm: LlmScenario, note: string, extra: Partial<Recipe> = {}): Recipe => ({
    scenario,
    llm,
    args: (context) => [...base(context, llm), "-"],
    note,
    ...extra,
  });
  const resume = (scenario: string, id: (context: RecipeContext) => string, note: string): Recipe => ({
    scenario,
    llm: "happy",
    args: (context) => [...base(context, "happy"), "resume", id(context), "-"],
    resumeSessionId: id,
    note,
  });
  return {
    binary,
    version: manifest.version,
    model: SCRIPTED_MODEL,
    sessionOf: (stdout) => /"type":"thread\.started","thread_id":"([^"]+)"/.exec(stdout)?.[1] ?? null,
    recipes: [
      fresh("happy", "happy", "a shell tool call (exec_command), then final text"),
      resume(
        "resume",
        (context) => {
          const id = context.sessions.get("happy");
          if (id === undefined) throw new Error("resume needs the happy recording's thread id");
          return id;
        },
        "resumes happy's thread (same HOME and cwd); turn.completed usage is the thread's running total",
      ),
      resume("resume-bogus-id", () => "bogus-thread-id", "a non-UUID id Codex does not know: it silently starts a NEW thread and exits 0"),
      resume("resume-bogus-uuid", () => "00000000-0000-4000-8000-000000000000", "a UUID Codex has no rollout for: exit 1 before any output"),
      fresh("err500", "error500", "every LLM request answers HTTP 500 (request_max_retries=1, stream_max_retries=1)"),
      fresh("err401", "error401", "the LLM answers HTTP 401 (invalid API key)"),
      fresh("empty", "empty", "a well-formed response with no output items and 0 output tokens"),
      fresh("tool-error", "happy", "out.txt is a directory, so the tool call `echo hello > out.txt` exits 1", {
        prepare: ({ cwd }) => mkdirSync(path.join(cwd, "out.txt")),
      }),
      fresh("killed-midstream", "stall", "tool call, then the final-text stream stalls after its first delta; SIGKILL 1 s after that request", {
        killWhen: async (requests) => {
          await until(() => requests().some((request) => request.afterToolResult && request.reply === "text"));
          await delay(1000);
        },
      }),
      fresh("codex-home-missing", "happy", "CODEX_HOME names a directory that does not exist: Codex refuses to start", {
        env: { CODEX_HOME: `${FIXTURE_ROOT}/does-not-exist` },
      }),
    ],
  };
}

const RECORDINGS: Record<string, () => CliRecording> = { codex: codexRecording };

interface Recorded {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationS: number;
  firstStdoutLineS: number | null;
}

async function runCli(binary: string, args: string[], env: Record<string, string>, cwd: string, killWhen: Promise<void> | null): Promise<Recorded> {
  const started = performance.now();
  const child = spawn(binary, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let firstStdoutLineS: number | null = null;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (firstStdoutLineS === null && stdout.includes("\n")) firstStdoutLineS = (performance.now() - started) / 1000;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(REAL_CLI_PROMPT);
  const exited = new Promise<number>((resolve) => child.on("close", (code, signal) => resolve(code ?? -(signal === "SIGKILL" ? 9 : 15))));
  void killWhen?.then(() => child.kill("SIGKILL"));
  const exitCode = await exited;
  return { stdout, stderr, exitCode, durationS: (performance.now() - started) / 1000, firstStdoutLineS };
}

const cli = process.argv[2] ?? "";
const recordingOf = RECORDINGS[cli];
if (recordingOf === undefined) throw new Error(`usage: record-fixtures.ts <cli>; known: ${Object.keys(RECORDINGS).join(", ")}`);
const recording = recordingOf();
const only = process.argv.slice(3);
// Not under /tmp: Codex will not put its helper binaries in a temporary directory and warns on stderr, which a
// pod (HOME on the shared volume) never sees.
const scratch = mkdtempSync(path.join("/var/tmp", `record-${cli}-`));
const rewrite = (text: string) => text.replaceAll(scratch, FIXTURE_ROOT);
const llm = await startScriptedLlmServer();
const home = path.join(scratch, "homes", cli);
const sessions = new Map<string, string>();
try {
  mkdirSync(home, { recursive: true });
  mkdirSync(path.join(fixturesDir, cli), { recursive: true });
  for (const recipe of recording.recipes) {
    // Every recipe runs in the same HOME (sessions carry over) and, except when it changes the cwd, the same working directory.
    const cwd = path.join(scratch, "work", recipe.prepare ? recipe.scenario : cli);
    mkdirSync(cwd, { recursive: true });
    const context: RecipeContext = { llm, tag: `${cli}-${recipe.scenario}`, home, cwd, sessions };
    recipe.prepare?.(context);
    const args = recipe.args(context);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8", HOME: home, OPENAI_API_KEY: "dummy", ...recipe.env };
    const runEnv = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll(FIXTURE_ROOT, scratch)]));
    const requests = () => llm.requests(context.tag);
    const result = await runCli(recording.binary, args, runEnv, cwd, recipe.killWhen?.(requests) ?? null);
    const session = recording.sessionOf(result.stdout);
    if (session !== null) sessions.set(recipe.scenario, session);
    if (only.length > 0 && !only.includes(recipe.scenario)) continue;
    const { PATH: _path, ...recordedEnv } = env;
    const meta = {
      cli,
      cli_version: recording.version,
      scenario: recipe.scenario,
      mock_scenario: recipe.llm,
      base_url: llm.baseUrl(recipe.llm, context.tag),
      cmd: [cli, ...args],
      model: recording.model,
      resume_session_id: recipe.resumeSessionId?.(context) ?? null,
      stdin: REAL_CLI_PROMPT,
      cwd,
      env: recordedEnv,
      exit_code: result.exitCode,
      killed: recipe.killWhen ? "SIGKILL" : null,
      duration_s: Number(result.durationS.toFixed(2)),
      first_stdout_line_s: result.firstStdoutLineS === null ? null : Number(result.firstStdoutLineS.toFixed(2)),
      stdout_lines: result.stdout.split("\n").filter((line) => line.trim() !== "").length,
      note: recipe.note,
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
    const file = (suffix: string) => path.join(fixturesDir, cli, `${recipe.scenario}.${suffix}`);
    writeFileSync(file("stdout"), rewrite(result.stdout));
    writeFileSync(file("stderr"), rewrite(result.stderr));
    writeFileSync(file("meta.json"), `${rewrite(JSON.stringify(meta, null, 1))}\n`);
    console.log(`${cli}/${recipe.scenario}: exit ${result.exitCode}, ${meta.stdout_lines} stdout lines, ${meta.mock_requests.length} LLM requests`);
  }
} finally {
  await llm.stop();
  rmSync(scratch, { recursive: true, force: true });
}
