#!/usr/bin/env node
// A stand-in agent CLI for the conformance suite. It runs inside a simulated pod under whatever name
// the adapter's command uses (claude, opencode, ...) and behaves as the scenario in its prompt says:
// a line `FAKE_AGENT_SCENARIO {json}` read from stdin. It replays recorded CLI output from
// `transcripts/<name>.stdout|.stderr|.meta.json` beside it, or writes scripted chunks.
// Plain JavaScript on purpose: it runs on whatever Node the simulated image has.
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const prompt = readFileSync(0, "utf8");
const match = /FAKE_AGENT_SCENARIO (\{.*\})/.exec(prompt);
const scenario = match ? JSON.parse(match[1]) : {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves once the bytes are in the pipe (the write's callback), not merely queued in this process:
// a pipe's reader can fall behind, and bytes still queued here when the agent is SIGKILLed never existed.
function write(stream, data) {
  return new Promise((resolve) => stream.write(data, () => resolve()));
}

/** The command wrapper's exit-code file path: its `sh -c` argv, found among this process's ancestors. */
function wrapperExitCodeFile() {
  for (let pid = process.ppid; pid > 1; ) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (argv[1] === "-c" && argv[3] === "paperclip-agent") return argv[8];
    pid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  }
  throw new Error("fake agent: no command wrapper among its ancestors");
}

// A directory where the wrapper writes `<exit-code file>.tmp` makes that write fail, so no exit-code file
// appears and the exit code can only come from the container's terminated state (the status-lag path).
if (scenario.blockExitCodeFile) mkdirSync(`${wrapperExitCodeFile()}.tmp`, { recursive: true });

if (scenario.recordInvocationTo) {
  writeFileSync(
    scenario.recordInvocationTo,
    JSON.stringify({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), promptBytes: Buffer.byteLength(prompt) }),
  );
}

// For scripts/bench.ts: the epoch ms the agent exits at, and stamped lines (each carrying the epoch ms it
// was written) printed before any transcript, so the transcript's terminal event still comes last.
if (scenario.recordExitTo) process.on("exit", () => writeFileSync(scenario.recordExitTo, `${Date.now()}\n`));
for (let seq = 0; seq < (scenario.stampedLines?.count ?? 0); seq++) {
  await write(process.stdout, `${JSON.stringify({ type: "bench", seq, writtenAt: Date.now() })}\n`);
  await sleep(scenario.stampedLines.intervalMs ?? 1000);
}

// Secret-redaction scenarios: a chunk `{ env: "NAME", from, to }` writes (a slice of) that variable's value.
for (const chunk of scenario.chunks ?? []) {
  if (chunk.env !== undefined) chunk.text = (process.env[chunk.env] ?? "").slice(chunk.from ?? 0, chunk.to);
}

let exitCode = 0;
if (scenario.transcript) {
  const base = join(here, "transcripts", scenario.transcript);
  const meta = JSON.parse(readFileSync(`${base}.meta.json`, "utf8"));
  // A negative recorded exit code means the CLI was killed by that signal number.
  if (meta.exit_code < 0) scenario.killSelf ??= -meta.exit_code === 9 ? "SIGKILL" : "SIGTERM";
  else exitCode = meta.exit_code;
  const stdout = readFileSync(`${base}.stdout`);
  const lines = stdout.toString("utf8").split(/(?<=\n)/);
  const stopAfter = scenario.stopAfterLines ?? lines.length;
  for (const [index, line] of lines.slice(0, stopAfter).entries()) {
    await write(process.stdout, line);
    if (scenario.lineDelayMs) await sleep(scenario.lineDelayMs);
    // The test decides when the agent goes on (by creating `releaseFile`, relative to the working directory), so a
    // Job outlives whatever the test does meanwhile, however slow the machine.
    if (index + 1 === scenario.holdAfterLines) while (!existsSync(scenario.releaseFile)) await sleep(100);
  }
  if (existsSync(`${base}.stderr`)) await write(process.stderr, readFileSync(`${base}.stderr`));
}
if (scenario.bigLineBytes) {
  const piece = "x".repeat(64 * 1024);
  for (let written = 0; written < scenario.bigLineBytes; written += piece.length) await write(process.stdout, piece);
  await write(process.stdout, "\n");
}
for (const chunk of scenario.chunks ?? []) {
  if (chunk.delayMs) await sleep(chunk.delayMs);
  const data = chunk.base64 !== undefined ? Buffer.from(chunk.base64, "base64") : chunk.text;
  await write(chunk.stream === "stderr" ? process.stderr : process.stdout, data);
}
// A hostile agent (the security scenarios): file operations on paths the test names, each outcome recorded
// (`ok`, or the error code the pod got) to `fileActionsResultTo`, which must lie in the agent's own workspace.
if (scenario.fileActions) {
  const outcomes = [];
  for (const action of scenario.fileActions) {
    try {
      let data;
      if (action.op === "read") data = readFileSync(action.path, "utf8").slice(0, 200);
      else if (action.op === "list") data = readdirSync(action.path).join(",");
      else if (action.op === "append") appendFileSync(action.path, action.data ?? "");
      else if (action.op === "write") writeFileSync(action.path, action.data ?? "");
      else if (action.op === "symlink") {
        rmSync(action.path, { force: true });
        symlinkSync(action.target, action.path);
      } else if (action.op === "mkfifo") {
        rmSync(action.path, { force: true });
        execFileSync("mkfifo", [action.path]);
      } else throw new Error(`unknown file action ${action.op}`);
      outcomes.push({ op: action.op, path: action.path, ok: true, ...(data === undefined ? {} : { data }) });
    } catch (error) {
      outcomes.push({ op: action.op, path: action.path, ok: false, error: error.code ?? String(error) });
    }
  }
  if (scenario.fileActionsResultTo) writeFileSync(scenario.fileActionsResultTo, JSON.stringify(outcomes));
}
if (scenario.sleepMs) await sleep(scenario.sleepMs);
if (scenario.killSelf) process.kill(process.pid, scenario.killSelf);
process.exitCode = scenario.exitCode ?? exitCode;
