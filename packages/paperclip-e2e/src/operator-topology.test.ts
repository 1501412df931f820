/**
 * End to end in the operator's topology (issue 7 §4): the deployment kit applied with the real kubectl to a
 * simulated cluster with HTTPS, RBAC and the `restricted` Pod Security Standard enforced; Paperclip runs as the
 * kit's Deployment's pod with in-cluster credentials and finds its namespace, image and claim by itself; agents
 * get only `image` in their config.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from "vitest";
import { isJsonObject, TERMINAL_RUN_STATUSES, type HeartbeatRun, type JsonObject } from "./paperclip-api.ts";
import { AGENT_IMAGE, KIT, startOperatorTopology, type OperatorTopology } from "./operator-topology.ts";

const RUN_TIMEOUT_MS = 150_000;
const ADAPTER_TYPES = ["claude_k8s", "opencode_k8s"] as const;
const HAPPY = { claude_k8s: "claude/happy", opencode_k8s: "opencode/happy" } as const;
const SA_USER = `system:serviceaccount:${KIT.namespace}:${KIT.serviceAccount}`;

let tasks = 0;
function taskTitle(scenario: JsonObject): string {
  return `FAKE_AGENT_SCENARIO ${JSON.stringify(scenario)} (task ${++tasks})`;
}

async function firstRunOf(topology: OperatorTopology, agentId: string): Promise<HeartbeatRun> {
  return vi.waitFor(
    async () => {
      const [run] = await topology.api.runsOf(topology.companyId, agentId);
      if (!run) throw new Error(`assigning a task did not wake agent ${agentId}`);
      return run;
    },
    { timeout: 30_000, interval: 200 },
  );
}

function finished(topology: OperatorTopology, runId: string): Promise<HeartbeatRun> {
  return topology.api.waitForRun(runId, (run) => TERMINAL_RUN_STATUSES.has(run.status), RUN_TIMEOUT_MS);
}

/** An agent with nothing but the image in its config: the rest comes from the Paperclip pod. */
function createAgent(topology: OperatorTopology, adapterType: string, name: string, config: JsonObject = {}): Promise<string> {
  return topology.api.createAgent(topology.companyId, { name, adapterType, adapterConfig: { image: AGENT_IMAGE, ...config } });
}

function nodeOf(pod: JsonObject | undefined): unknown {
  return isJsonObject(pod?.spec) ? pod.spec.nodeName : undefined;
}

describe("the kit's RWX overlay on a cluster enforcing RBAC and restricted Pod Security, Paperclip in its pod", { timeout: 600_000 }, () => {
  let topology: OperatorTopology;
  beforeAll(async () => {
    topology = await startOperatorTopology({ overlay: "rwx" });
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it.each(ADAPTER_TYPES)("%s: a task runs to succeeded, with the agent's pod admitted as restricted", async (adapterType) => {
    onTestFailed(async () => console.error(`Paperclip's log:\n${await topology.serverLog()}`));
    const agentId = await createAgent(topology, adapterType, `${adapterType} happy`);
    await topology.api.createIssue(topology.companyId, taskTitle({ transcript: HAPPY[adapterType] }), agentId);
    const run = await finished(topology, (await firstRunOf(topology, agentId)).id);
    const log = await topology.api.runLog(run.id);
    expect(run.status, `${JSON.stringify(run.error)}\n${log.slice(-3000)}`).toBe("succeeded");
    expect(log).toContain("[paperclip] Created Job");
    expect(run.sessionIdAfter).toEqual(expect.any(String));
    expect(topology.ofAgent("jobs", agentId)).toEqual([]);
  });
});
