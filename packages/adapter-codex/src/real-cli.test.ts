/**
 * The real `codex` (the devDependency @openai/codex) in simulated pods, against the scripted LLM's OpenAI Responses
 * API, through the adapter's own `execute()`; every result is compared with Paperclip's own codex_local parser.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseCodexJsonl } from "@paperclipai/adapter-codex-local/server";
import { expectAgreesWithOracle, FINAL_TEXT } from "paperclip-k8s-runtime/testing";
import { describe, expect, it, vi } from "vitest";
import { codexAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";
import { useRealCodexCluster, type CodexRun } from "./real-codex-cluster.ts";

const cluster = useRealCodexCluster(codexAgent, createServerAdapter());

/** Paperclip's codex_local reports no cost (null) where its parser has no field for it. */
const expectAgreesWithPaperclip = (run: CodexRun) =>
  expectAgreesWithOracle(run, (transcript) => ({ ...parseCodexJsonl(transcript), costUsd: null }));

describe("codex_k8s with the real codex CLI", { timeout: 120_000 }, () => {
  it("happy path runs the tool in the pod; a second Job resumes the thread from the agent's HOME", async () => {
    const first = await cluster().run({ scenario: "happy" });
    expect(first.result.errorMessage ?? null).toBeNull();
    expect(first.result.exitCode).toBe(0);
    expect(first.result.summary).toBe(FINAL_TEXT);
    expect(first.result.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.result.usage?.inputTokens).toBeGreaterThan(0);
    expectAgreesWithPaperclip(first);
    expect(await readFile(path.join(first.workspaceCwd, "out.txt"), "utf8")).toBe("hello\n");
    expect(first.llmRequests().map((request) => [request.api, request.reply])).toEqual([
      ["responses", "tool:exec_command"],
      ["responses", "text"],
    ]);

    const second = await cluster().run({
      scenario: "happy",
      agentId: first.agentId,
      workspaceCwd: first.workspaceCwd,
      sessionParams: first.result.sessionParams ?? null,
    });
    expect(second.result.errorMessage ?? null).toBeNull();
    expect(second.result.sessionId).toBe(first.result.sessionId);
    expectAgreesWithPaperclip(second);
    // The resumed thread carries the first run's conversation, and Codex's usage is the thread's running total.
    expect(second.llmRequests()[0]?.messageCount).toBeGreaterThan(Math.max(...first.llmRequests().map((request) => request.messageCount)));
    expect(second.result.usage?.outputTokens).toBe(2 * (first.result.usage?.outputTokens ?? 0));
  });

  it("unknown thread (a UUID Codex has no rollout for): session_unavailable, the session cleared, no LLM call", async () => {
    const { result, llmRequests } = await cluster().run({ scenario: "happy", sessionParams: { sessionId: "00000000-0000-4000-8000-000000000000" } });
    expect(result.errorCode).toBe("session_unavailable");
    expect(result.clearSession).toBe(true);
    expect(result.errorMessage).toMatch(/no rollout found for thread id 00000000-0000-4000-8000-000000000000/);
    expect(llmRequests()).toEqual([]);
  });

  it("API error 500: Codex's retry, then llm_api_error / transient_upstream", async () => {
    const failed = await cluster().run({ scenario: "error500" });
    expect(failed.result.exitCode).toBe(1);
    expect(failed.result.errorCode).toBe("llm_api_error");
    expect(failed.result.errorFamily).toBe("transient_upstream");
    expect(failed.llmRequests().filter((request) => request.status === 500).length).toBeGreaterThan(1);
    expectAgreesWithPaperclip(failed);
  });

  it("API error 401 (invalid key): llm_auth_error, not retried, a readable message", async () => {
    const refused = await cluster().run({ scenario: "error401" });
    expect(refused.result.exitCode).toBe(1);
    expect(refused.result.errorCode).toBe("llm_auth_error");
    expect(refused.result.errorFamily ?? null).toBeNull();
    expect(refused.result.retryNotBefore ?? null).toBeNull();
    expect(refused.result.errorMessage).toMatch(/^Codex could not authenticate with the model provider \(HTTP 401: .+\)\. Check OPENAI_API_KEY/);
    expect(refused.result.errorMessage).not.toMatch(/\u001b|\{"/);
    expectAgreesWithPaperclip(refused);
  });

  it("empty reply: an empty-reply error the scheduler may retry", async () => {
    const empty = await cluster().run({ scenario: "empty" });
    expect(empty.result.exitCode).toBe(0);
    expect(empty.result.errorCode).toBe("llm_api_error");
    expect(empty.result.errorFamily).toBe("transient_upstream");
    expectAgreesWithPaperclip(empty);
  });

  it("a CODEX_HOME that does not exist: agent_start_failed with Codex's own words", async () => {
    const refused = await cluster().run({ scenario: "happy", config: { env: { OPENAI_API_KEY: "dummy", CODEX_HOME: "/nonexistent/codex-home" } } });
    expect(refused.result.exitCode).toBe(1);
    expect(refused.result.errorCode).toBe("agent_start_failed");
    expect(refused.result.errorMessage).toMatch(/CODEX_HOME points to "\/nonexistent\/codex-home", but that path does not exist/);
    expect(refused.llmRequests()).toEqual([]);
  });

  it("OOM-killed while the final reply streams: codex_truncated, with the tool's completion already streamed", async () => {
    const killed = await cluster().run({
      scenario: "stall",
      during: async (run, agentId, llmRequests) => {
        await vi.waitFor(() => expect(llmRequests().some((request) => request.afterToolResult && request.reply === "text")).toBe(true), {
          timeout: 60_000,
          interval: 50,
        });
        await vi.waitFor(() => expect(run.transcript().join("")).toMatch(/"type":"command_execution"[^\n]*"status":"completed"/), {
          timeout: 60_000,
          interval: 50,
        });
        const pod = cluster().podOf(agentId);
        if (pod === null) throw new Error("the agent's pod is gone before the kill");
        cluster().sim.faults.oomKill(cluster().namespace, pod);
      },
    });
    expect(killed.result.errorCode).toBe("codex_truncated");
    expect(killed.result.exitCode).toBe(137);
    expect(killed.result.errorMessage).toMatch(/OOMKilled/);
    expect(killed.result.summary).toBe("I'll run the command.");
  });
});
