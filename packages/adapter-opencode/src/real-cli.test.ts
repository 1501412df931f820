/**
 * The real `opencode` (the devDependency opencode-ai) in simulated pods, against the scripted LLM's
 * OpenAI-compatible API, through the adapter's own `execute()`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseOpenCodeJsonl } from "@paperclipai/adapter-opencode-local/server";
import { expectAgreesWithOracle, FINAL_TEXT, useRealCliCluster, type RealCliRun } from "paperclip-k8s-runtime/testing";
import { describe, expect, it, vi } from "vitest";
import { opencodeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

const cluster = useRealCliCluster(opencodeAgent, createServerAdapter(), "opencode");

/** Our result must agree with Paperclip's own opencode_local parser reading the same streamed transcript. */
const expectAgreesWithPaperclip = (run: RealCliRun) => expectAgreesWithOracle(run, parseOpenCodeJsonl);

function modelReplies(run: RealCliRun): (string | null)[] {
  return run.llmRequests().filter((request) => request.api === "openai").map((request) => request.reply);
}

// One at a time: unlike claude, opencode keeps a CPU busy for seconds per run (about 10 s of CPU time
// on our 2-core machines), so side-by-side runs only make each slower.
describe("opencode_k8s with the real opencode CLI", { timeout: 120_000 }, () => {
  it("happy path runs the tool in the pod; a second Job resumes the session from the agent's HOME", async () => {
    const first = await cluster().run({ scenario: "happy" });
    expect(first.result.errorMessage ?? null).toBeNull();
    expect(first.result.exitCode).toBe(0);
    expect(first.result.summary).toBe(`I'll run the command.\n\n${FINAL_TEXT}`);
    expect(first.result.sessionId).toMatch(/^ses_/);
    expect(first.result.usage?.inputTokens).toBeGreaterThan(0);
    expectAgreesWithPaperclip(first);
    expect(await readFile(path.join(first.workspaceCwd, "out.txt"), "utf8")).toBe("hello\n");
    // A session title (no tools), the tool call, the final text.
    expect(modelReplies(first)).toEqual(expect.arrayContaining(["tool:bash", "text"]));

    const second = await cluster().run({
      scenario: "happy",
      agentId: first.agentId,
      workspaceCwd: first.workspaceCwd,
      sessionParams: first.result.sessionParams ?? null,
    });
    expect(second.result.errorMessage ?? null).toBeNull();
    expect(second.result.sessionId).toBe(first.result.sessionId);
    expectAgreesWithPaperclip(second);
    const firstTurn = Math.max(...first.llmRequests().map((request) => request.messageCount));
    const resumedTurn = second.llmRequests().find((request) => request.reply === "tool:bash");
    expect(resumedTurn?.messageCount).toBeGreaterThan(firstTurn);
  });

  it("unknown session: session_unavailable, the session cleared, no LLM call", async () => {
    const { result, llmRequests } = await cluster().run({ scenario: "happy", sessionParams: { sessionId: "ses_00000000000000000000000000" } });
    expect(result.errorCode).toBe("session_unavailable");
    expect(result.clearSession).toBe(true);
    expect(result.errorMessage).toMatch(/Session not found/);
    expect(llmRequests()).toEqual([]);
  });

  it("step limit (agent.build.steps 2): tools are switched off for the last step, which answers in text", async () => {
    const limited = await cluster().run({ scenario: "loop", opencodeConfig: { agent: { build: { steps: 2 } } } });
    expect(limited.result.errorMessage ?? null).toBeNull();
    expect(limited.result.summary).toContain(FINAL_TEXT);
    const replies = modelReplies(limited);
    expect(replies.filter((reply) => reply === "tool:bash").length).toBeGreaterThanOrEqual(1);
    expect(replies.at(-1)).toBe("text");
    expectAgreesWithPaperclip(limited);
  });

  it("API error 500: opencode's retries (quick through retry-after-ms), then llm_api_error / transient_upstream", async () => {
    const failed = await cluster().run({ scenario: "error500" });
    expect(failed.result.exitCode).toBe(1);
    expect(failed.result.errorCode).toBe("llm_api_error");
    expect(failed.result.errorFamily).toBe("transient_upstream");
    expect(failed.llmRequests().filter((request) => request.status === 500).length).toBeGreaterThan(1);
    expectAgreesWithPaperclip(failed);
  });

  it("API error 401 (invalid key): llm_auth_error, not retried, a readable message", async () => {
    const refused = await cluster().run({ scenario: "error401" });
    expect(refused.result.exitCode).not.toBe(0);
    expect(refused.result.errorCode).toBe("llm_auth_error");
    expect(refused.result.errorFamily ?? null).toBeNull();
    expect(refused.result.retryNotBefore ?? null).toBeNull();
    expect(refused.result.errorMessage).toMatch(/^OpenCode could not authenticate with the model provider \(HTTP 401: .+\)\. Check /);
    expect(refused.result.errorMessage).not.toMatch(/\u001b|\{"/);
    expect(refused.llmRequests().filter((request) => request.method === "POST").map((request) => request.status)).toContain(401);
    expectAgreesWithPaperclip(refused);
  });

  it("empty reply: an empty-reply error the scheduler may retry", async () => {
    const empty = await cluster().run({ scenario: "empty" });
    expect(empty.result.errorCode).toBe("llm_api_error");
    expect(empty.result.errorFamily).toBe("transient_upstream");
    expectAgreesWithPaperclip(empty);
  });

  it("OOM-killed while the final reply streams: opencode_truncated", async () => {
    const killed = await cluster().run({
      scenario: "stall",
      during: async (run, agentId, llmRequests) => {
        await vi.waitFor(() => expect(llmRequests().some((request) => request.afterToolResult && request.reply === "text")).toBe(true), {
          timeout: 60_000,
          interval: 50,
        });
        // opencode prints a finished tool's event from an event-bus subscriber, which may run after it has already asked the model
        // for the next turn: kill only once the tool's line has reached the log, so what is asserted below was really printed.
        await vi.waitFor(() => expect(run.transcript().join("")).toMatch(/"tool":"bash"/), { timeout: 60_000, interval: 50 });
        const pod = cluster().podOf(agentId);
        if (pod === null) throw new Error("the agent's pod is gone before the kill");
        cluster().sim.faults.oomKill(cluster().namespace, pod);
      },
    });
    expect(killed.result.errorCode).toBe("opencode_truncated");
    expect(killed.result.exitCode).toBe(137);
    expect(killed.result.errorMessage).toMatch(/OOMKilled/);
    expect(killed.run.transcript().join("")).toMatch(/"tool":"bash"/);
  });
});
