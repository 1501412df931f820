/**
 * End to end in the operator's topology (issue 7 §4): the deployment kit applied with the real kubectl to a
 * simulated cluster with HTTPS, RBAC and the `restricted` Pod Security Standard enforced; Paperclip runs as the
 * kit's Deployment's pod with in-cluster credentials and finds its namespace, image and claim by itself; agents
 * get only `image` in their config.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { RUNTIME_PERMISSIONS } from "paperclip-k8s-runtime";
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from "vitest";
import { isJsonObject, TERMINAL_RUN_STATUSES, type HeartbeatRun, type JsonObject } from "./paperclip-api.ts";
import { AGENT_IMAGE, KIT, startOperatorTopology, type OperatorTopology } from "./operator-topology.ts";

const RUN_TIMEOUT_MS = 150_000;
const ADAPTER_TYPES = ["claude_k8s", "opencode_k8s", "codex_k8s", "gemini_k8s"] as const;
const HAPPY = { claude_k8s: "claude/happy", opencode_k8s: "opencode/happy", codex_k8s: "codex/happy", gemini_k8s: "gemini/happy" } as const;
/** Paperclip's periodic reaper fails a run whose record is 5 minutes old (`staleThresholdMs`), checked every 30 s. */
const PAPERCLIP_PERIODIC_REAP_MS = 5 * 60_000 + 30_000;
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

/** Waits until the run's agent has printed a line of its transcript, so its pod is running. */
async function agentOutputStarted(topology: OperatorTopology, runId: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const log = await topology.api.runLog(runId);
      expect(log).toMatch(/"stream":"stdout","chunk":"\{/);
    },
    { timeout: 90_000, interval: 250 },
  );
}

/** Starts a run of a new agent whose fake CLI prints a line, then sleeps; resolves once its pod is running. */
async function startLongRun(topology: OperatorTopology, adapterType: string, name: string): Promise<{ agentId: string; run: HeartbeatRun }> {
  const agentId = await createAgent(topology, adapterType, name);
  await topology.api.createIssue(topology.companyId, taskTitle({ chunks: [{ text: "{}\n" }], sleepMs: 300_000 }), agentId);
  const run = await firstRunOf(topology, agentId);
  await agentOutputStarted(topology, run.id);
  return { agentId, run };
}

/** Every verb the Role could grant on a resource: the ones it does not must be refused. */
const ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

function kubectlResource(permission: (typeof RUNTIME_PERMISSIONS)[number]): string {
  return permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
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

  it("the agent pod is admitted by restricted Pod Security and runs on any node: no node affinity for a ReadWriteMany claim", async () => {
    const { agentId, run } = await startLongRun(topology, "claude_k8s", "rwx placement");
    const [pod] = topology.ofAgent("pods", agentId);
    expect(isJsonObject(pod?.spec) ? pod.spec.affinity : "no pod").toBeUndefined();
    const log = await topology.api.runLog(run.id);
    expect(log).not.toContain("agent pods run on the Paperclip pod's node");
    await topology.api.cancel(run.id);
    expect((await finished(topology, run.id)).status).toBe("cancelled");
  });

  it("Stop on a running run: cancelled, its Job and pod gone", async () => {
    const { agentId, run } = await startLongRun(topology, "opencode_k8s", "stop");
    expect(topology.ofAgent("jobs", agentId)).toHaveLength(1);
    await topology.api.cancel(run.id);
    const cancelled = await finished(topology, run.id);
    expect(cancelled.status).toBe("cancelled");
    const result = isJsonObject(cancelled.resultJson) ? cancelled.resultJson : {};
    expect(result.executionCancellation).toMatchObject({ state: "acknowledged" });
    expect(topology.ofAgent("jobs", agentId)).toEqual([]);
    await vi.waitFor(() => expect(topology.ofAgent("pods", agentId)).toEqual([]), { timeout: 60_000, interval: 200 });
  });

  it("kubectl auth can-i as Paperclip's service account agrees with the Role: every verb the runtime uses, and no other", async () => {
    for (const permission of RUNTIME_PERMISSIONS) {
      for (const verb of ALL_VERBS) {
        expect(await topology.canI(SA_USER, verb, kubectlResource(permission)), `${verb} ${kubectlResource(permission)}`).toBe(permission.verbs.includes(verb));
      }
    }
    expect(await topology.canI(SA_USER, "create", "pods")).toBe(false);
    expect(await topology.canI(SA_USER, "get", "configmaps")).toBe(false);
  });

  it("the Paperclip pod deleted mid-run: the Deployment's new pod reattaches to the running Job and finishes it", { timeout: 720_000 }, async () => {
    onTestFailed(async () => console.error(`Paperclip's log:\n${await topology.serverLog()}`));
    const { api } = topology;
    const agentId = await createAgent(topology, "claude_k8s", "pod deleted");
    // The fake agent prints its first line, then holds until the test releases it after the reattach (below): the Job
    // outlives Paperclip's recovery of the lost run, however long that takes, and still prints after the reattach.
    const releaseFile = ".release-after-reattach";
    const taskId = await api.createIssue(topology.companyId, taskTitle({ transcript: HAPPY.claude_k8s, holdAfterLines: 1, releaseFile }), agentId);
    const run = await firstRunOf(topology, agentId);
    await agentOutputStarted(topology, run.id);
    const [oldPod] = topology.serverPods();
    const oldName = isJsonObject(oldPod?.metadata) ? String(oldPod.metadata.name) : "";

    await topology.kubectl(["delete", "pod", "-n", KIT.namespace, oldName, "--wait=false"]);
    // Recreate: the new pod starts once the old one is gone (Paperclip's shutdown within its grace period).
    await vi.waitFor(() => expect(topology.sim.store.get("pods", KIT.namespace, oldName)).toBeUndefined(), { timeout: 90_000, interval: 500 });
    expect(topology.ofAgent("jobs", agentId)).toHaveLength(1);
    await topology.waitForServer();

    // The old pod's run stays `running` under its dead server's lease. The new pod started before that 60 s lease
    // ran out, so its startup reap leaves the run alone; Paperclip's periodic reaper (every 30 s) takes a run whose
    // record has not changed for 5 minutes: about 5.5 minutes after the deletion the run is `process_lost`.
    const lost = await api.waitForRun(run.id, (current) => current.status !== "running", PAPERCLIP_PERIODIC_REAP_MS + 120_000);
    expect(lost.status).toBe("failed");
    expect(lost.errorCode).toBe("process_lost");
    // As the board: the agent's Job has not stopped; the next run reattaches to it.
    await api.reconcileLostRun(taskId, run.id, "operator-topology e2e: the Paperclip pod was deleted; the agent's Job keeps running and the next run reattaches to it.");
    expect(topology.ofAgent("jobs", agentId)).toHaveLength(1);

    const woken = await api.wake(agentId, taskId);
    await vi.waitFor(async () => expect(await api.runLog(woken.id)).toMatch(/\[paperclip\] Reattached to Job /), { timeout: 120_000, interval: 500 });
    // The agent's working directory: Paperclip's fallback workspace in its instance root, the root of the claim.
    await writeFile(path.join(topology.sim.pvcHostPath(KIT.namespace, KIT.claim), "workspaces", agentId, releaseFile), "");
    const next = await finished(topology, woken.id);
    const log = await api.runLog(next.id);
    expect(next.status, `${JSON.stringify(next.error)}\n${log.slice(-3000)}`).toBe("succeeded");
    expect(log).toMatch(/\[paperclip\] Reattached to Job /);
    expect(next.sessionIdAfter).toEqual(expect.any(String));
    expect(topology.ofAgent("jobs", agentId)).toEqual([]);
  });

  // Last: it changes the Role every other test relies on (and puts it back).
  it("one verb removed from the Role: the environment test and the next run fail, naming it", async () => {
    onTestFailed(async () => console.error(`Paperclip's log:\n${await topology.serverLog()}`));
    const jobsRule = RUNTIME_PERMISSIONS.findIndex((permission) => permission.resource === "jobs");
    const granted = RUNTIME_PERMISSIONS[jobsRule]?.verbs ?? [];
    const patch = (verbs: readonly string[]) =>
      topology.kubectl(["patch", "role", KIT.role, "-n", KIT.namespace, "--type=json", "-p", JSON.stringify([{ op: "replace", path: `/rules/${jobsRule}/verbs`, value: verbs }])]);
    await patch(granted.filter((verb) => verb !== "create"));
    try {
      expect(await topology.canI(SA_USER, "create", "jobs.batch")).toBe(false);
      const tested = await topology.api.request("POST", `/companies/${topology.companyId}/adapters/claude_k8s/test-environment`, { adapterConfig: { image: AGENT_IMAGE } });
      const checks = isJsonObject(tested) && Array.isArray(tested.checks) ? tested.checks.filter(isJsonObject) : [];
      expect(isJsonObject(tested) ? tested.status : tested).toBe("fail");
      expect(checks.find((check) => check.code === "rbac_jobs")).toMatchObject({
        level: "error",
        message: expect.stringContaining(`Not allowed: create jobs.batch in ${KIT.namespace}`),
      });
      expect(checks.find((check) => check.code === "rbac_pods")).toMatchObject({ level: "info" });

      const agentId = await createAgent(topology, "claude_k8s", "no create");
      await topology.api.createIssue(topology.companyId, taskTitle({ transcript: HAPPY.claude_k8s }), agentId);
      const run = await finished(topology, (await firstRunOf(topology, agentId)).id);
      expect(run.status).toBe("failed");
      expect(run.errorCode).toBe("k8s_job_create_failed");
      // The API's own 403 text, naming the account, the verb and the resource.
      expect(String(run.error)).toContain(`User "${SA_USER}" cannot create resource "jobs" in API group "batch" in the namespace "${KIT.namespace}"`);
      // Nothing left behind: the run Secret made before the refused Job is deleted.
      expect(topology.ofAgent("secrets", agentId)).toEqual([]);
    } finally {
      await patch(granted);
    }
    expect(await topology.canI(SA_USER, "create", "jobs.batch")).toBe(true);
  });
});

describe("the kit's RWO overlay on a two-node cluster: agent pods share the Paperclip pod's node", { timeout: 600_000 }, () => {
  let topology: OperatorTopology;
  beforeAll(async () => {
    topology = await startOperatorTopology({ overlay: "rwo", nodes: ["node-a", "node-b"] });
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it("the environment test names the mode and why; a task's agent pod lands on the server's node and succeeds", async () => {
    onTestFailed(async () => console.error(`Paperclip's log:\n${await topology.serverLog()}`));
    const [server] = topology.serverPods();
    const serverNode = nodeOf(server);
    expect(["node-a", "node-b"]).toContain(serverNode);

    const tested = await topology.api.request("POST", `/companies/${topology.companyId}/adapters/opencode_k8s/test-environment`, { adapterConfig: { image: AGENT_IMAGE } });
    const checks = isJsonObject(tested) && Array.isArray(tested.checks) ? tested.checks.filter(isJsonObject) : [];
    expect(checks.find((check) => check.code === "storage_mode")).toMatchObject({
      level: "info",
      message: `Claim paperclip-data is not ReadWriteMany (ReadWriteOnce): it attaches to one node, so agent pods run on the Paperclip pod's node ${String(serverNode)}`,
    });

    for (const adapterType of ADAPTER_TYPES) {
      const { agentId, run } = await startLongRun(topology, adapterType, `${adapterType} rwo`);
      const [pod] = topology.ofAgent("pods", agentId);
      expect(nodeOf(pod), adapterType).toBe(serverNode);
      expect(isJsonObject(pod?.spec) ? pod.spec.affinity : undefined).toEqual({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [serverNode] }] }] },
        },
      });
      expect(await topology.api.runLog(run.id)).toContain(`agent pods run on the Paperclip pod's node ${String(serverNode)}`);
      await topology.api.cancel(run.id);
      expect((await finished(topology, run.id)).status).toBe("cancelled");
    }

    const agentId = await createAgent(topology, "claude_k8s", "rwo happy");
    await topology.api.createIssue(topology.companyId, taskTitle({ transcript: HAPPY.claude_k8s }), agentId);
    const run = await finished(topology, (await firstRunOf(topology, agentId)).id);
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded");
  });
});
