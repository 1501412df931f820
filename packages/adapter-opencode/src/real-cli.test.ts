/**
 * The real `opencode` in simulated pods, against the scripted LLM's OpenAI-compatible API, through the adapter's own
 * `execute()`: the shared real-CLI scenarios, then what only OpenCode has (its step limit).
 */
import { describeRealCliConformance, expectAgreesWithOracle, FINAL_TEXT } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { opencodeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";
import { openCodeRealCliSpec } from "./real-cli-spec.ts";
import { openCodeVerdictOracle } from "./verdict-oracle.ts";

// One at a time: opencode keeps a CPU busy for seconds per run (about 10 s of CPU time on our 2-core machines),
// so side-by-side runs only make each slower.
const cluster = describeRealCliConformance(openCodeRealCliSpec, opencodeAgent, createServerAdapter(), { oracle: openCodeVerdictOracle });

describe("opencode_k8s with the real opencode CLI: its step limit", { timeout: 120_000 }, () => {
  it("step limit (agent.build.steps 2): tools are switched off for the last step, which answers in text", async () => {
    const limited = await cluster().run({ scenario: "loop", cliSettings: { agent: { build: { steps: 2 } } } });
    expect(limited.result.errorMessage ?? null).toBeNull();
    expect(limited.result.summary).toContain(FINAL_TEXT);
    const replies = limited.llmRequests().filter((request) => request.api === "openai").map((request) => request.reply);
    expect(replies.filter((reply) => reply === "tool:bash").length).toBeGreaterThanOrEqual(1);
    expect(replies.at(-1)).toBe("text");
    expectAgreesWithOracle(limited, openCodeVerdictOracle);
  });
});
