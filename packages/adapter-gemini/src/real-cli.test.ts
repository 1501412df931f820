/**
 * The real `gemini` in simulated pods, against the scripted LLM's Gemini API, through the adapter's own `execute()`:
 * the shared real-CLI scenarios, then what only Gemini CLI has (its session turn limit).
 */
import { describeRealCliConformance, expectAgreesWithOracle } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { geminiAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";
import { geminiRealCliSpec } from "./real-cli-spec.ts";
import { geminiVerdictOracle } from "./verdict-oracle.ts";

const cluster = describeRealCliConformance(geminiRealCliSpec, geminiAgent, createServerAdapter(), { oracle: geminiVerdictOracle });

describe("gemini_k8s with the real gemini CLI: its session turn limit", { timeout: 120_000 }, () => {
  it("model.maxSessionTurns 1: max_turns_exhausted after the first tool call, the session cleared", async () => {
    const limited = await cluster().run({ scenario: "loop", cliSettings: { model: { maxSessionTurns: 1 } } });
    expect(limited.result.exitCode).toBe(53);
    expect(limited.result.errorCode).toBe("max_turns_exhausted");
    expect(limited.result.clearSession).toBe(true);
    expect(limited.run.transcript().join("")).toMatch(/"type":"tool_result"/);
    expectAgreesWithOracle(limited, geminiVerdictOracle);
  });
});
