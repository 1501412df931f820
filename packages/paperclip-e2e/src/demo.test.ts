/**
 * The README's main job: `npm run demo` runs one real-CLI run of every adapter on an embedded simulated cluster
 * (and `--replay` the recorded transcripts). Run here as a user would, so a change that breaks it fails the suite.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "./e2e-environment.ts";

const ADAPTER_TYPES = ["claude_k8s", "opencode_k8s", "codex_k8s", "gemini_k8s"];

function npmRunDemo(args: string[]): Promise<{ code: number; output: string }> {
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  return new Promise((resolve) => {
    execFile("npm", ["run", "--silent", "demo", "--", ...args], { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr });
    });
  });
}

it.each([[[]], [["--replay"]]])("npm run demo %j: one run of every adapter succeeds, its transcript streamed", async (args) => {
  const { code, output } = await npmRunDemo(args);
  expect(code, output.slice(-4000)).toBe(0);
  expect(output).toContain(`${ADAPTER_TYPES.length} of ${ADAPTER_TYPES.length} runs succeeded.`);
  for (const type of ADAPTER_TYPES) expect(output).toContain(`== ${type}: a simulated cluster and one run of`);
  // The runtime's own lines and the agent's transcript both reached the terminal.
  expect(output).toContain("[paperclip] Created Job");
  expect(output).toMatch(/"sessionId": "[^"]+"/);
}, 600_000);
