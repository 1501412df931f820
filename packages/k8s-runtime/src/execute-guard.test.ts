import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentDefinition } from "./agent.ts";
import { stopReapers } from "./reaper.ts";
import { runDirectoryFor } from "./run-directory.ts";
import { stopSharedWatches } from "./shared-watch.ts";
import { minimalAgent, minimalAgentContext } from "./testing/minimal-agent.ts";
import { startConformanceCluster, type ConformanceCluster } from "./testing/sim-harness.ts";

/** An agent definition with a bug in its output handling: what the top-level guard of `execute()` is for. */
function buggyAgent(bug: "parser" | "interpret"): AgentDefinition<null> {
  const agent = minimalAgent();
  return {
    ...agent,
    createParser: () => ({
      push: (line) => {
        if (bug === "parser") throw new Error(`cannot parse ${line}`);
      },
      result: () => null,
    }),
    interpret: (parsed, outcome, facts) => {
      if (bug === "interpret") throw new TypeError(`no verdict for exit ${outcome.exitCode}`);
      return agent.interpret(parsed, outcome, facts);
    },
  };
}

let cluster: ConformanceCluster;
beforeAll(async () => {
  cluster = await startConformanceCluster(minimalAgent());
});
afterAll(async () => {
  stopReapers();
  await stopSharedWatches();
  await cluster.stop();
});

describe("execute(): an unexpected error (simulated cluster)", () => {
  it.each([
    ["the output parser throws on a line", "parser" as const, /cannot parse token=\[redacted:PAPERCLIP_API_KEY\]/],
    ["interpret throws", "interpret" as const, /TypeError: no verdict for exit 0/],
  ])("%s: a k8s_internal_error result, redacted, and nothing of the run is left", async (_name, bug, message) => {
    const agent = buggyAgent(bug);
    const t = minimalAgentContext(agent, cluster);
    const { result, run, agentId } = await t.run({
      scenario: { chunks: [{ text: "token=" }, { env: "PAPERCLIP_API_KEY" }, { text: "\n" }], sleepMs: 300 },
    });
    expect(result.errorCode).toBe("k8s_internal_error");
    expect(result.errorMessage).toMatch(message);
    expect(JSON.stringify(result)).not.toContain(run.ctx.authToken);
    await t.expectCleanCluster(agentId);
    const { dir } = runDirectoryFor({ instanceRoot: cluster.instanceRoot, companyId: run.ctx.agent.companyId, agentId, runId: run.ctx.runId });
    expect(existsSync(dir)).toBe(false);
  });
});
