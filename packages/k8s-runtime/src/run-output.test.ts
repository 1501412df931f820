import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileCallsFor } from "./file-calls.ts";
import { createRedactor, redactionMarker } from "./redaction.ts";
import { runDirectoryFor, type RunDirectory } from "./run-directory.ts";
import { RunOutput } from "./run-output.ts";

/** The tailer's default cap on one line held in memory. */
const LINE_CAP = 1024 * 1024;
const secret = "sk-ant-api03-0123456789abcdefghijklmnopqrstuvwxyz";

let root: string;
let runDirectory: RunDirectory;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "run-output-"));
  runDirectory = runDirectoryFor({ instanceRoot: root, companyId: "company-1", agentId: "agent-1", runId: "run-1" });
  await mkdir(runDirectory.output, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function streamed(stdout: string, stderr: string): Promise<{ logged: { stream: string; text: string }[]; parsed: string[]; output: RunOutput<null> }> {
  await writeFile(runDirectory.stdout, stdout);
  await writeFile(runDirectory.stderr, stderr);
  const logged: { stream: string; text: string }[] = [];
  const parsed: string[] = [];
  const output = new RunOutput({
    runDirectory,
    onLog: async (stream, text) => {
      logged.push({ stream, text });
    },
    parser: { push: (line) => parsed.push(line), result: () => null },
    onActivity: () => {},
    redactor: createRedactor({ ANTHROPIC_API_KEY: secret }),
    fileCalls: await fileCallsFor(root),
  });
  await output.drain(false);
  return { logged, parsed, output };
}

describe("RunOutput redaction", () => {
  it("redacts every line before the log, the parser and the stderr tail see it", async () => {
    const { logged, parsed, output } = await streamed(`{"key":"${secret}"}\n`, `error: ${secret}\n`);
    // The two files are tailed side by side: their lines may interleave either way.
    expect(logged).toHaveLength(2);
    expect(logged).toContainEqual({ stream: "stdout", text: `{"key":"${redactionMarker("ANTHROPIC_API_KEY")}"}\n` });
    expect(logged).toContainEqual({ stream: "stderr", text: `error: ${redactionMarker("ANTHROPIC_API_KEY")}\n` });
    expect(parsed).toEqual([`{"key":"${redactionMarker("ANTHROPIC_API_KEY")}"}`]);
    expect(output.stderrTail.toString()).toBe(`error: ${redactionMarker("ANTHROPIC_API_KEY")}`);
  });

  it.each([1, 7, secret.length - 1])("a secret cut by the line cap after %i characters leaks none of them", async (keptChars) => {
    const filler = "x".repeat(LINE_CAP - keptChars);
    const line = `${filler}${secret} and more`;
    const { logged } = await streamed(`${line}\nnext\n`, `${line}\n`);
    for (const stream of ["stdout", "stderr"]) {
      const [cut, next] = logged.filter((entry) => entry.stream === stream).map((entry) => entry.text);
      expect(cut?.startsWith(`${filler}${redactionMarker("ANTHROPIC_API_KEY")} … [paperclip] line truncated`)).toBe(true);
      if (stream === "stdout") expect(next).toBe("next\n");
    }
  });
});
