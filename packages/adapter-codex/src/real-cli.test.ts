/**
 * The real `codex` in simulated pods, against the scripted LLM's OpenAI Responses API, through the adapter's own
 * `execute()`: the shared real-CLI scenarios, then what only Codex has.
 */
import { describeRealCliConformance, expectAgreesWithOracle, FINAL_TEXT } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { codexAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";
import { codexRealCliSpec } from "./real-cli-spec.ts";
import { codexVerdictOracle } from "./verdict-oracle.ts";

const cluster = describeRealCliConformance(codexRealCliSpec, codexAgent, createServerAdapter(), { oracle: codexVerdictOracle });

describe("codex_k8s with the real codex CLI: what only Codex does", { timeout: 120_000 }, () => {
  it("a resumed thread's usage is the thread's running total, reported as session_cumulative", async () => {
    const first = await cluster().run({ scenario: "happy" });
    expect(first.result.usageBasis).toBe("per_run");
    const second = await cluster().run({ scenario: "happy", agentId: first.agentId, workspaceCwd: first.workspaceCwd, sessionParams: first.result.sessionParams ?? null });
    expect(second.result.sessionId).toBe(first.result.sessionId);
    expect(second.result.usageBasis).toBe("session_cumulative");
    expect(second.result.usage?.outputTokens).toBe(2 * (first.result.usage?.outputTokens ?? 0));
    expectAgreesWithOracle(second, codexVerdictOracle, "codex", "resumed-usage");
  });

  it("a non-UUID thread id Codex does not know: it starts a NEW thread, which the run reports as session_unavailable", async () => {
    const replaced = await cluster().run({ scenario: "happy", sessionParams: { sessionId: "bogus-thread-id" } });
    expect(replaced.run.transcript().join("")).toContain(FINAL_TEXT);
    expect(replaced.result.errorCode).toBe("session_unavailable");
    expect(replaced.result.clearSession).toBe(true);
    expect(replaced.result.errorMessage).toMatch(/^Codex did not resume thread bogus-thread-id: it started a new thread [0-9a-f-]{36}/);
    expectAgreesWithOracle(replaced, codexVerdictOracle, "codex", "resume-bogus-id");
  });

  it("a CODEX_HOME that does not exist: agent_start_failed with Codex's own words, no model call", async () => {
    const refused = await cluster().run({ scenario: "happy", config: { env: { CODEX_HOME: "/nonexistent/codex-home" } } });
    expect(refused.result.exitCode).toBe(1);
    expect(refused.result.errorCode).toBe("agent_start_failed");
    expect(refused.result.errorMessage).toMatch(/CODEX_HOME points to "\/nonexistent\/codex-home", but that path does not exist/);
    expect(refused.llmRequests()).toEqual([]);
    expectAgreesWithOracle(refused, codexVerdictOracle, "codex", "codex-home-missing");
  });
});
