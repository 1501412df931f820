/**
 * The real `claude` (the devDependency @anthropic-ai/claude-code) in simulated pods, against the
 * scripted LLM, through the adapter's own `execute()`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseClaudeStreamJson } from "@paperclipai/adapter-claude-local/server";
import { expectAgreesWithOracle, FINAL_TEXT, filesUnder, useRealCliCluster, type RealCliRun } from "paperclip-k8s-runtime/testing";
import { describe, expect, it, vi } from "vitest";
import { claudeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

const cluster = useRealCliCluster(claudeAgent, createServerAdapter(), "claude");

/** Our result must agree with Paperclip's own claude_local parser reading the same streamed transcript. */
const expectAgreesWithPaperclip = (run: RealCliRun) => expectAgreesWithOracle(run, parseClaudeStreamJson);

// Each run has its own agent, workspace and LLM script, so they run side by side: the CLI mostly waits.
describe.concurrent("claude_k8s with the real claude CLI", () => {
  it("happy path runs the tool in the pod; a second Job resumes the session from the agent's HOME", async () => {
    const first = await cluster().run({ scenario: "happy" });
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
    const home = path.join(cluster().instanceRoot, "data", "k8s-runs", first.run.ctx.agent.companyId, first.agentId, ".home");
    expect((await filesUnder(home)).some((file) => file.endsWith(`${first.result.sessionId}.jsonl`))).toBe(true);

    const second = await cluster().run({
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

  it("unknown session: session_unavailable, the session cleared, no LLM call", async () => {
    const agentId = crypto.randomUUID();
    const workspaceCwd = await cluster().workspace(agentId);
    const { result, run, llmRequests } = await cluster().run({
      agentId,
      scenario: "happy",
      workspaceCwd,
      sessionParams: { sessionId: "00000000-0000-4000-8000-000000000000", cwd: workspaceCwd },
    });
    expect(result.errorCode).toBe("session_unavailable");
    expect(result.clearSession).toBe(true);
    expect(result.errorMessage).toMatch(/No conversation found with session ID: 00000000-0000-4000-8000-000000000000/);
    expect(run.transcript().join("")).toMatch(/"subtype":"error_during_execution"/);
    expect(llmRequests().filter((request) => request.method === "POST")).toEqual([]);
  });

  it("turn limit (maxTurnsPerRun 1): max_turns_exhausted and the session cleared", async () => {
    const first = await cluster().run({ scenario: "loop", config: { maxTurnsPerRun: 1 } });
    expect(first.result.errorCode).toBe("max_turns_exhausted");
    expect(first.result.clearSession).toBe(true);
    expect(first.run.transcript().join("")).toMatch(/"subtype":"error_max_turns"/);
    expect(first.llmRequests().filter((request) => request.method === "POST").map((request) => request.reply)).toEqual(["tool:Bash"]);
    expectAgreesWithPaperclip(first);
  });

  it("API error 500: one retry (CLAUDE_CODE_MAX_RETRIES=1), then llm_api_error / transient_upstream", async () => {
    const failed = await cluster().run({ scenario: "error500" });
    expect(failed.result.exitCode).toBe(1);
    expect(failed.result.errorCode).toBe("llm_api_error");
    expect(failed.result.errorFamily).toBe("transient_upstream");
    expect(failed.result.errorMessage).toMatch(/500/);
    expect(failed.llmRequests().filter((request) => request.method === "POST").map((request) => request.status)).toEqual([500, 500]);
    expectAgreesWithPaperclip(failed);
  });

  it("API error 401 (invalid key): llm_auth_error, not retried, a readable message", async () => {
    const refused = await cluster().run({ scenario: "error401" });
    expect(refused.result.exitCode).not.toBe(0);
    expect(refused.result.errorCode).toBe("llm_auth_error");
    expect(refused.result.errorFamily ?? null).toBeNull();
    expect(refused.result.retryNotBefore ?? null).toBeNull();
    expect(refused.result.errorMessage).toMatch(/^Claude could not authenticate with the model provider \(HTTP 401: .+\)\. Check /);
    expect(refused.result.errorMessage).not.toMatch(/\u001b|\{"/);
    expect(refused.llmRequests().filter((request) => request.method === "POST").map((request) => request.status)).toContain(401);
    expectAgreesWithPaperclip(refused);
  });

  it("empty reply: an empty-reply error the scheduler may retry", async () => {
    const empty = await cluster().run({ scenario: "empty" });
    expect(empty.result.errorCode).toBe("llm_api_error");
    expect(empty.result.errorFamily).toBe("transient_upstream");
    expect(empty.result.errorMessage).toMatch(/empty reply/);
    expectAgreesWithPaperclip(empty);
  });

  it("stream cut mid-way: the CLI recovers and the run succeeds", async () => {
    const recovered = await cluster().run({ scenario: "cut" });
    expect(recovered.result.errorMessage ?? null).toBeNull();
    expect(recovered.result.summary).toBe(FINAL_TEXT);
    expect(recovered.llmRequests().filter((request) => request.reply === "text").length).toBeGreaterThanOrEqual(2);
  });

  it("OOM-killed while the final reply streams: claude_truncated with what was printed so far", async () => {
    const killed = await cluster().run({
      scenario: "stall",
      during: async (run, agentId, llmRequests) => {
        await vi.waitFor(() => expect(llmRequests().some((request) => request.afterToolResult && request.reply === "text")).toBe(true), { timeout: 30_000, interval: 50 });
        const pod = cluster().podOf(agentId);
        if (pod === null) throw new Error("the agent's pod is gone before the kill");
        cluster().sim.faults.oomKill(cluster().namespace, pod);
      },
    });
    expect(killed.result.errorCode).toBe("claude_truncated");
    expect(killed.result.exitCode).toBe(137);
    expect(killed.result.errorMessage).toMatch(/OOMKilled/);
    const transcript = killed.run.transcript().join("");
    expect(transcript).toMatch(/"name":"Bash"/);
    expect(transcript).not.toMatch(/"type":"result"/);
  });
});
