/**
 * What `interpret` is told about the run (`RunFacts`) and what its verdict may say about usage (`usageBasis`),
 * end to end through `execute()` on the simulated cluster.
 */
import { describe, expect, it } from "vitest";
import type { AgentDefinition, RunFacts } from "./agent.ts";
import { minimalAgent, useMinimalAgentContext } from "./testing/minimal-agent.ts";

/** Facts each run's `interpret` got, in order. */
const told: RunFacts[] = [];
const agent: AgentDefinition<null> = {
  ...minimalAgent(),
  // Like Codex on resume: the CLI reports the thread's totals, and the session it ran in.
  interpret: (_parsed, _outcome, facts) => {
    told.push(facts);
    return { sessionId: facts.resumeSessionId ?? "fresh-session", usage: { inputTokens: 100, outputTokens: 5 }, usageBasis: "session_cumulative" };
  },
};
const get = useMinimalAgentContext(agent);

describe("RunFacts and usageBasis through execute() (simulated cluster)", () => {
  it("interpret is told the requested model and the session asked for; the verdict's usage basis reaches Paperclip", async () => {
    const t = get();
    const fresh = await t.run({ config: { model: "scripted/model-a" }, scenario: {} });
    expect(fresh.result).toMatchObject({ exitCode: 0, sessionId: "fresh-session", usageBasis: "session_cumulative" });
    const workspaceCwd = await t.cluster.workspace(fresh.agentId);
    const resumed = await t.run({ agentId: fresh.agentId, workspaceCwd, sessionParams: { sessionId: "fresh-session", cwd: workspaceCwd }, scenario: {} });
    expect(resumed.result).toMatchObject({ exitCode: 0, sessionId: "fresh-session", usage: { inputTokens: 100, outputTokens: 5 } });
    // A session saved for another working directory is not resumed, and interpret hears so.
    await t.run({ agentId: fresh.agentId, workspaceCwd, sessionParams: { sessionId: "fresh-session", cwd: "/elsewhere" }, scenario: {} });
    expect(told).toEqual([
      { model: "scripted/model-a", resumeSessionId: null },
      { model: null, resumeSessionId: "fresh-session" },
      { model: null, resumeSessionId: null },
    ]);
  });
});
