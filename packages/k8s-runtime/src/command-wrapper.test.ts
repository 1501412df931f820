import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WRAPPER_SCRIPT, wrapAgentCommand } from "./command-wrapper.ts";
import { randomText } from "./testing/random-text.ts";

interface Shell {
  name: string;
  /** The executable and the arguments that make it a POSIX shell. */
  argv: string[];
  /** PATH for the wrapper (busybox runs with only its own applets). */
  path: string;
}

function which(command: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, command);
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return null;
}

const root = mkdtempSync(join(tmpdir(), "wrapper-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";
const shells: Shell[] = [{ name: "dash", argv: ["/bin/dash"], path: SYSTEM_PATH }];
const bash = which("bash");
if (bash !== null) shells.push({ name: "bash", argv: [bash], path: SYSTEM_PATH });
const busybox = which("busybox");
if (busybox !== null) {
  // Only busybox's applets on PATH, so its tee, mkfifo, mkdir, mv, … are the ones under test.
  const applets = join(root, "busybox-bin");
  mkdirSync(applets);
  for (const applet of ["sh", "tee", "mkfifo", "mkdir", "rm", "rmdir", "mv", "cat", "sleep", "pwd", "printf"]) {
    symlinkSync(busybox, join(applets, applet));
  }
  shells.push({ name: "busybox", argv: [busybox, "sh"], path: applets });
}

interface RunResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutFile: Buffer;
  stderrFile: Buffer;
  exitCodeFile: string;
  cwd: string;
}

let runCounter = 0;

/** Runs the wrapper in `shell` for an agent written as a shell script (run by the same shell) plus its arguments. */
async function runWrapped(
  shell: Shell,
  agentScript: string,
  agentArgs: string[] = [],
  options: { prompt?: string | Buffer; cwd?: string; argv?: string[]; onStdout?: (text: string, kill: () => void) => void } = {},
): Promise<RunResult> {
  const dir = join(root, `run-${runCounter++}`);
  const tmp = join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  const stdinFile = join(dir, "prompt");
  writeFileSync(stdinFile, options.prompt ?? "");
  const cwd = options.cwd ?? join(dir, "work", "nested dir");
  const files = { stdoutFile: join(dir, "stdout"), stderrFile: join(dir, "stderr"), exitCodeFile: join(dir, "exit-code") };
  const argv = options.argv ?? [...shell.argv, "-c", agentScript, "agent", ...agentArgs];
  const command = wrapAgentCommand({ argv, cwd, stdinFile, ...files });
  expect(command.slice(0, 2)).toEqual(["sh", "-c"]);
  const [executable, ...shellArgs] = shell.argv;
  if (executable === undefined) throw new Error("empty shell argv");
  const child = spawn(executable, [...shellArgs, ...command.slice(1)], {
    env: { PATH: shell.path, TMPDIR: tmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    stdout.push(chunk);
    options.onStdout?.(Buffer.concat(stdout).toString("utf8"), () => child.kill("SIGTERM"));
  });
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  // The wrapper removes its FIFO directory.
  expect(readdirSync(tmp)).toEqual([]);
  return {
    exitCode,
    stdout: Buffer.concat(stdout),
    stderr: Buffer.concat(stderr),
    stdoutFile: readFileSync(files.stdoutFile),
    stderrFile: readFileSync(files.stderrFile),
    exitCodeFile: readFileSync(files.exitCodeFile, "utf8"),
    cwd,
  };
}

function expectConsistent(result: RunResult, exitCode: number): void {
  expect(result.exitCode).toBe(exitCode);
  expect(result.exitCodeFile).toBe(`${exitCode}\n`);
  expect(result.stdoutFile.equals(result.stdout)).toBe(true);
  expect(result.stderrFile.equals(result.stderr)).toBe(true);
}

describe("wrapAgentCommand", () => {
  it("passes paths and argv as positional parameters, never in the script", () => {
    const command = wrapAgentCommand({
      argv: ["claude", "-p", "$(rm -rf /)"],
      cwd: "/work/'x'",
      stdinFile: "/run/prompt",
      stdoutFile: "/run/stdout",
      stderrFile: "/run/stderr",
      exitCodeFile: "/run/exit-code",
    });
    expect(command).toEqual([
      "sh", "-c", WRAPPER_SCRIPT, "paperclip-agent",
      "/work/'x'", "/run/prompt", "/run/stdout", "/run/stderr", "/run/exit-code",
      "claude", "-p", "$(rm -rf /)",
    ]);
  });

  it("refuses relative paths, an empty argv and NUL bytes with a clear message", () => {
    const base = { argv: ["claude"], cwd: "/w", stdinFile: "/p", stdoutFile: "/o", stderrFile: "/e", exitCodeFile: "/x" };
    expect(() => wrapAgentCommand({ ...base, cwd: "work" })).toThrow(/cwd must be an absolute path, got "work"/);
    expect(() => wrapAgentCommand({ ...base, argv: [] })).toThrow(/argv is empty/);
    expect(() => wrapAgentCommand({ ...base, argv: [""] })).toThrow(/argv is empty/);
    expect(() => wrapAgentCommand({ ...base, argv: ["claude", "a\0b"] })).toThrow(/NUL/);
  });

  it("uses no bashisms", () => {
    expect(WRAPPER_SCRIPT).not.toMatch(/pipefail|<\(|>\(|\[\[|\bfunction\b|\blocal\b|\$\{[^}]*\[/);
  });
});

describe.each(shells)("wrapper script in $name", (shell) => {
  it("tees stdout and stderr, keeps exit code 0", async () => {
    const result = await runWrapped(shell, "printf 'line 1\\nline 2\\n'; printf 'warning\\n' >&2; exit 0");
    expectConsistent(result, 0);
    expect(result.stdout.toString()).toBe("line 1\nline 2\n");
    expect(result.stderr.toString()).toBe("warning\n");
  });

  it("keeps a last line without newline and exit code 3", async () => {
    const result = await runWrapped(shell, "printf 'first\\nno newline'; printf 'err no newline' >&2; exit 3");
    expectConsistent(result, 3);
    expect(result.stdout.toString()).toBe("first\nno newline");
    expect(result.stderr.toString()).toBe("err no newline");
  });

  it("reports 137 when the agent is SIGKILLed", async () => {
    const result = await runWrapped(shell, "printf 'before kill\\n'; kill -9 $$");
    expectConsistent(result, 137);
    expect(result.stdout.toString()).toBe("before kill\n");
  });

  it("keeps 127 when the agent's executable does not exist", async () => {
    const result = await runWrapped(shell, "", [], { argv: ["no-such-agent-binary", "--flag"] });
    expectConsistent(result, 127);
    expect(result.stderr.toString()).toContain("no-such-agent-binary");
  });

  it("feeds the prompt file on stdin and runs in the created working directory", async () => {
    const prompt = Buffer.from("Prompt with 'quotes', $(cmd), `ticks`, ünïcødé 🚀\nsecond line\u0001\n");
    const result = await runWrapped(shell, "cat; pwd >&2", [], { prompt });
    expectConsistent(result, 0);
    expect(result.stdout.equals(prompt)).toBe(true);
    expect(result.stderr.toString()).toBe(`${result.cwd}\n`);
  });

  it("passes large output through unchanged", async () => {
    const line = "x".repeat(8191);
    const result = await runWrapped(shell, 'i=0; while [ $i -lt 128 ]; do printf "%s\\n" "$1"; i=$((i+1)); done', [line]);
    expectConsistent(result, 0);
    expect(result.stdout.toString()).toBe(`${line}\n`.repeat(128));
  });

  it("fails with 1 and a message when the working directory cannot be created", async () => {
    const blocker = join(root, `blocker-${shell.name}`);
    writeFileSync(blocker, "a file, not a directory");
    const result = await runWrapped(shell, "printf 'should not run\\n'", [], { cwd: join(blocker, "work") });
    expectConsistent(result, 1);
    expect(result.stdout.toString()).toBe("");
    expect(result.stderr.toString()).toContain("cannot create or enter the working directory");
  });

  it("forwards SIGTERM to the agent and keeps its last output and exit code", async () => {
    const result = await runWrapped(
      shell,
      "trap 'printf \"terminated\\n\"; exit 7' TERM; printf 'ready\\n'; while :; do sleep 0.02; done",
      [],
      {
        onStdout: (text, kill) => {
          if (text === "ready\n") kill();
        },
      },
    );
    expectConsistent(result, 7);
    expect(result.stdout.toString()).toBe("ready\nterminated\n");
  });

  it("hands every argument to the agent byte-exact (fuzz)", async () => {
    const random = randomText(shell.name.length * 7919);
    const fixed = ["", " ", "a b", "'", '"', "\\", "$(echo pwned)", "`echo pwned`", "$HOME", "*", "-e", "--", "\n", "日本語 🚀"];
    const runs: string[][] = [fixed];
    for (let i = 0; i < 12; i++) runs.push(Array.from({ length: random.int(0, 16) }, () => random.string(0, 40)));
    const results = await Promise.all(
      runs.map((args) => runWrapped(shell, 'for arg in "$@"; do printf "%s\\0" "$arg"; done', args)),
    );
    results.forEach((result, index) => {
      expectConsistent(result, 0);
      const received = result.stdout.toString("utf8").split("\0").slice(0, -1);
      expect(received).toEqual(runs[index]);
    });
  });
});
