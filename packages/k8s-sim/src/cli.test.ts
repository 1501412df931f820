import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "./testing/clients.ts";
import { apiError, eventually, shellJob, startSimWithClients } from "./testing/clients.ts";

const CLI = path.join(import.meta.dirname, "cli.ts");
/** Holds the kubeconfig as `sim-kubeconfig.json`, the CLI's default, so the CLI can run here without --kubeconfig. */
const workDir = mkdtempSync(path.join(tmpdir(), "k8s-sim-cli-"));
const SPARE_NODE = "spare";

let sim: SimClients;
beforeAll(async () => {
  sim = await startSimWithClients({
    acceptAnyImage: true,
    kubeconfigPath: path.join(workDir, "sim-kubeconfig.json"),
    nodes: [{ name: "sim-node-1" }, { name: SPARE_NODE, taints: [{ key: "spare", effect: "NoSchedule" }] }],
  });
});
afterAll(async () => {
  await sim.cluster.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** Runs the CLI as a person would (`npm run sim -- ...`), from the directory holding the kubeconfig. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--conditions=source", CLI, ...args], { cwd: workDir, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `fault --kubeconfig <the sim's> ...`, expecting success. */
async function fault(...args: string[]): Promise<string> {
  const result = await cli("fault", "--kubeconfig", sim.cluster.kubeconfigPath, ...args);
  expect(result, `fault ${args.join(" ")}`).toMatchObject({ code: 0, stderr: "" });
  return result.stdout;
}

function sleeperPod(name: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      nodeName: "sim-node-1",
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "main", image: "busybox:1.36", command: ["sleep", "300"] }],
    },
  };
}

async function podWhere(name: string, what: string, check: (pod: V1Pod) => boolean): Promise<V1Pod> {
  return eventually(async () => {
    const pod = await sim.core.readNamespacedPod({ namespace: "default", name });
    return check(pod) ? pod : undefined;
  }, 15_000, `pod ${name}: ${what}`);
}

const containerState = (pod: V1Pod) => pod.status?.containerStatuses?.[0]?.state;

describe("sim CLI: fault", () => {
  it("fails the chosen verb and resource for N requests", async () => {
    expect(await fault("fail-requests", "--verb", "create", "--resource", "jobs", "--status", "503", "--count", "2")).toBe(
      'applied {"failRequests":{"verb":"create","resource":"jobs","response":{"kind":"status","status":503},"count":2}}\n',
    );
    const create = () => sim.batch.createNamespacedJob({ namespace: "default", body: shellJob("after-faults", "true") });
    expect((await apiError(create())).body).toMatchObject({ code: 503, reason: "ServiceUnavailable" });
    expect((await apiError(create())).code).toBe(503);
    await expect(create()).resolves.toMatchObject({ metadata: { name: "after-faults" } });

    await fault("fail-requests", "--verb", "get", "--resource", "nodes", "--drop", "--count", "1");
    await expect(sim.core.readNode({ name: "sim-node-1" })).rejects.toThrow();
    await expect(sim.core.readNode({ name: "sim-node-1" })).resolves.toMatchObject({ metadata: { name: "sim-node-1" } });
  });

  it("sets latency and status lag, and clear removes them", async () => {
    await Promise.all([fault("latency", "--ms", "200", "--verb", "get", "--resource", "secrets"), fault("status-lag", "--ms", "500")]);
    expect(sim.cluster.faults.latencyMs("get", "secrets")).toBe(200);
    expect(sim.cluster.faults.latencyMs("list", "secrets")).toBe(0);
    expect(sim.cluster.faults.statusLagMs).toBe(500);
    await fault("clear");
    expect(sim.cluster.faults.latencyMs("get", "secrets")).toBe(0);
    expect(sim.cluster.faults.statusLagMs).toBe(0);
  });

  it("cuts a watch after N events and answers the next watch with 410 Gone", async () => {
    await sim.core.createNamespace({ body: { metadata: { name: "cut" } } });
    for (const name of ["a", "b", "c", "d", "e"]) {
      await sim.core.createNamespacedConfigMap({ namespace: "cut", body: { metadata: { name } } });
    }
    await fault("cut-watches", "--resource", "configmaps", "--after-events", "3", "--count", "1");
    // The initial state arrives as five ADDED events; the cut ends the stream (cleanly) after three.
    const cutStream = await (await fetch(`${sim.cluster.url}/api/v1/namespaces/cut/configmaps?watch=true`)).text();
    expect(cutStream.trim().split("\n").map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(["ADDED", "ADDED", "ADDED"]);

    await fault("gone-next-watch", "pods");
    const gone = await (await fetch(`${sim.cluster.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=1`)).text();
    expect(JSON.parse(gone)).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
  });

  it("holds a pod in ContainerCreating, releases it, then OOM-kills its container", async () => {
    await fault("hold", "default/held");
    await sim.core.createNamespacedPod({ namespace: "default", body: sleeperPod("held") });
    await podWhere("held", "waiting in ContainerCreating", (pod) => containerState(pod)?.waiting?.reason === "ContainerCreating");
    await fault("release", "default/held");
    await podWhere("held", "running", (pod) => containerState(pod)?.running !== undefined);
    await fault("oom-kill", "default", "held");
    const killed = await podWhere("held", "terminated", (pod) => containerState(pod)?.terminated !== undefined);
    expect(containerState(killed)?.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
  });

  it("evicts a running pod", async () => {
    await sim.core.createNamespacedPod({ namespace: "default", body: sleeperPod("evicted") });
    await podWhere("evicted", "running", (pod) => containerState(pod)?.running !== undefined);
    await fault("evict", "default", "evicted");
    const pod = await podWhere("evicted", "failed", (p) => p.status?.phase === "Failed");
    expect(pod.status?.reason).toBe("Evicted");
  });

  it("removes a node", async () => {
    await fault("remove-node", SPARE_NODE);
    expect((await apiError(sim.core.readNode({ name: SPARE_NODE }))).code).toBe(404);
  });

  it("reports what went wrong: usage errors exit 2, refusals by the sim exit 1 with its message", async () => {
    const [typoVerb, missingPod, unknownAction, noKubeconfig] = await Promise.all([
      cli("fault", "--kubeconfig", sim.cluster.kubeconfigPath, "fail-requests", "--verb", "creat", "--status", "503"),
      cli("fault", "--kubeconfig", sim.cluster.kubeconfigPath, "oom-kill", "default", "no-such-pod"),
      cli("fault", "frobnicate"),
      cli("fault", "--kubeconfig", path.join(workDir, "missing.json"), "clear"),
    ]);
    expect(typoVerb).toMatchObject({ code: 1, stdout: "" });
    expect(typoVerb.stderr).toBe('paperclip-k8s-sim fault: the sim refused POST /_sim/faults (400): failRequests.verb: unknown verb "creat"\n');
    expect(missingPod.code).toBe(1);
    expect(missingPod.stderr).toContain("(404): pod default/no-such-pod is not running on this kubelet");
    expect(unknownAction.code).toBe(2);
    expect(unknownAction.stderr).toMatch(/^paperclip-k8s-sim fault: unknown fault action "frobnicate"; known: fail-requests, .*\n\nUsage: paperclip-k8s-sim fault/s);
    expect(noKubeconfig.code).toBe(1);
    expect(noKubeconfig.stderr).toContain(`cannot read the kubeconfig ${path.join(workDir, "missing.json")}`);
    expect(sim.cluster.faults.takeRequestFault("create", "jobs")).toBeUndefined();
  });
});

describe("sim CLI: requests", () => {
  it("prints and resets the request counters, reading ./sim-kubeconfig.json by default", async () => {
    const reset = await cli("requests", "--reset");
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ total: 0, byResource: {} });
    await sim.core.listNamespacedPod({ namespace: "default" });
    await sim.core.readNamespace({ name: "default" });
    const counted = await cli("requests");
    expect(counted.code).toBe(0);
    const snapshot: unknown = JSON.parse(counted.stdout);
    expect(snapshot).toEqual(sim.cluster.requests.snapshot());
    expect(snapshot).toMatchObject({ total: 2, byResource: { pods: { list: 1 }, namespaces: { get: 1 } } });
  });
});
