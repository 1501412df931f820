/**
 * The real `claude` (the devDependency @anthropic-ai/claude-code) in simulated pods, against the
 * scripted LLM, through the adapter's own `execute()`.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseClaudeStreamJson } from "@paperclipai/adapter-claude-local/server";
import { stopReapers, stopSharedWatches } from "paperclip-k8s-runtime";
import { FINAL_TEXT, startRealCliCluster, type RealCliCluster, type RealCliRun } from "paperclip-k8s-runtime/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

let cluster: RealCliCluster;
beforeAll(async () => {
  cluster = await startRealCliCluster(claudeAgent, createServerAdapter(), "claude");
});
afterAll(async () => {
  stopReapers();
  await stopSharedWatches();
  await cluster?.stop();
});

/** Our result must agree with Paperclip's own claude_local parser reading the same streamed transcript. */
function expectAgreesWithPaperclip({ result, run }: RealCliRun): void {
  const oracle = parseClaudeStreamJson(run.transcript().join(""));
  expect(result.sessionId ?? null).toBe(oracle.sessionId);
  expect(result.usage ?? null).toEqual(oracle.usage);
  expect(result.costUsd ?? null).toBe(oracle.costUsd);
  expect(result.summary ?? "").toBe(oracle.summary);
}

/** Files under a directory, recursively, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe("claude_k8s with the real claude CLI", () => {
  it("happy path runs the tool in the pod; a second Job resumes the session from the agent's HOME", async () => {
    const first = await cluster.run({ scenario: "happy" });
    expect(first.result.errorMessage ?? null).toBeNull();
    expect(first.result.exitCode).toBe(0);
    expect(first.result.summary).toBe(FINAL_TEXT);
    expect(first.result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.result.sessionParams).toMatchObject({ sessionId: first.result.sessionId, cwd: first.workspaceCwd });
    expect(first.result.usage?.inputTokens).toBeGreaterThan(0);
    expect(first.result.costUsd).toBeGreaterThan(0);
    expectAgreesWithPaperclip(first);
    // The scripted tool call really ran in the pod, in the workspace, as the agent user.
    expect(await readFile(path.join(first.workspaceCwd, "out.txt"), "utf8")).toBe("hello\n");
    const posts = first.llmRequests().filter((request) => request.method === "POST");
    expect(posts.map((request) => request.reply)).toEqual(["tool:Bash", "text"]);

    // The session lives in HOME on the shared volume, which outlives the Job.
    const home = path.join(cluster.instanceRoot, "data", "k8s-runs", first.run.ctx.agent.companyId, first.agentId, ".home");
    expect((await filesUnder(home)).some((file) => file.endsWith(`${first.result.sessionId}.jsonl`))).toBe(true);

    const second = await cluster.run({
      scenario: "happy",
      agentId: first.agentId,
      workspaceCwd: first.workspaceCwd,
      sessionParams: first.result.sessionParams ?? null,
    });
    expect(second.result.errorMessage ?? null).toBeNull();
    expect(second.result.sessionId).toBe(first.result.sessionId);
    expect(second.result.summary).toBe(FINAL_TEXT);
    expectAgreesWithPaperclip(second);
    // The resumed conversation reaches the model with the first run's messages before the new prompt.
    const resumedPosts = second.llmRequests().filter((request) => request.method === "POST");
    expect(resumedPosts[0]?.messageCount).toBeGreaterThan(posts[1]?.messageCount ?? Infinity);
  });
});
