/**
 * The real `claude` in simulated pods, against the scripted LLM, through the adapter's own `execute()`: the shared
 * real-CLI scenarios, then what only Claude Code has (a turn limit, recovery from a cut stream).
 */
import { describeRealCliConformance, expectAgreesWithOracle, FINAL_TEXT } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { claudeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";
import { claudeRealCliSpec } from "./real-cli-spec.ts";
import { claudeVerdictOracle } from "./verdict-oracle.ts";

// Side by side: the CLI mostly waits.
const cluster = describeRealCliConformance(claudeRealCliSpec, claudeAgent, createServerAdapter(), { oracle: claudeVerdictOracle, concurrent: true });

describe.concurrent("claude_k8s with the real claude CLI: its own limits and recovery", () => {
  it("turn limit (maxTurnsPerRun 1): max_turns_exhausted and the session cleared", async () => {
    const limited = await cluster().run({ scenario: "loop", config: { maxTurnsPerRun: 1 } });
    expect(limited.result.errorCode).toBe("max_turns_exhausted");
    expect(limited.result.clearSession).toBe(true);
    expect(limited.run.transcript().join("")).toMatch(/"subtype":"error_max_turns"/);
    expect(limited.llmRequests().filter((request) => request.api === "anthropic").map((request) => request.reply)).toEqual(["tool:Bash"]);
    expectAgreesWithOracle(limited, claudeVerdictOracle);
  });

  it("stream cut mid-way: the CLI recovers and the run succeeds", async () => {
    const recovered = await cluster().run({ scenario: "cut" });
    expect(recovered.result.errorMessage ?? null).toBeNull();
    expect(recovered.result.summary).toBe(FINAL_TEXT);
    expect(recovered.llmRequests().filter((request) => request.reply === "text").length).toBeGreaterThanOrEqual(2);
    expectAgreesWithOracle(recovered, claudeVerdictOracle);
  });
});
