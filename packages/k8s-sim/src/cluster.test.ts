import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimCluster } from "./cluster.ts";
import type { SimClients } from "./testing/clients.ts";
import { apiError, eventually, startSimWithClients } from "./testing/clients.ts";

let sim: SimClients;
beforeAll(async () => {
  sim = await startSimWithClients({ acceptAnyImage: true, nodes: [{ name: "n1", labels: { zone: "a" }, allocatable: { cpu: "2" } }] });
});
afterAll(async () => {
  await sim.cluster.stop();
});

function pod(name: string, containers: { name: string; script: string }[]) {
  return {
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: containers.map((c) => ({ name: c.name, image: "busybox:1.36", command: ["sh", "-c", c.script] })),
    },
  };
}

const phaseOf = (name: string) => (sim.cluster.store.get("pods", "default", name)?.status as { phase?: string } | undefined)?.phase;

describe("startSimCluster", () => {
  it("writes a kubeconfig and creates the configured nodes and the system namespaces", async () => {
    const onDisk: unknown = JSON.parse(readFileSync(sim.cluster.kubeconfigPath, "utf8"));
    expect(onDisk).toEqual(sim.cluster.kubeconfig);
    expect(sim.cluster.kubeconfig["current-context"]).toBe("sim");
    expect(sim.cluster.kubeconfig.clusters[0]?.cluster.server).toBe(sim.cluster.url);
    const node = await sim.core.readNode({ name: "n1" });
    expect(node.metadata?.labels).toMatchObject({ zone: "a", "kubernetes.io/hostname": "n1" });
    expect(node.status?.allocatable).toMatchObject({ cpu: "2", memory: "32Gi", pods: "110" });
    expect(node.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    const namespaces = (await sim.core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(namespaces).toEqual(expect.arrayContaining(["default", "kube-system"]));
  });

  it("gives each claim a host directory and rejects unsafe names", () => {
    const dir = sim.cluster.pvcHostPath("default", "data");
    expect(dir).toBe(`${sim.cluster.rootDir}/pvcs/default/data`);
    expect(existsSync(dir)).toBe(true);
    expect(() => sim.cluster.pvcHostPath("default", "../escape")).toThrow(/invalid namespace "default" or claim name "..\/escape"/);
  });

  it("stops cleanly: temp rootDir removed, server closed", async () => {
    const other = await startSimCluster();
    const { rootDir, url } = other;
    await other.stop();
    expect(existsSync(rootDir)).toBe(false);
    await expect(fetch(`${url}/version`)).rejects.toThrow();
  });
});

describe("pod log subresource", () => {
  it("serves logs with tailLines, timestamps and limitBytes", async () => {
    await sim.core.createNamespacedPod({ namespace: "default", body: pod("printer", [{ name: "main", script: "echo one; echo two; echo three >&2" }]) });
    await eventually(() => (phaseOf("printer") === "Succeeded" ? true : undefined), 15_000, "the pod to succeed");
    const read = (query: Record<string, string | number | boolean>) => sim.core.readNamespacedPodLog({ namespace: "default", name: "printer", ...query });
    expect(await read({})).toBe("one\ntwo\nthree\n");
    expect(await read({ tailLines: 1 })).toBe("three\n");
    expect(await read({ limitBytes: 6 })).toBe("one\ntw");
    const stamped = await read({ timestamps: true });
    expect(stamped.split("\n")[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one$/);
  });

  it("needs a container name when the pod has several, and says when a container has not started", async () => {
    await sim.core.createNamespacedPod({
      namespace: "default",
      body: pod("two-containers", [{ name: "a", script: "true" }, { name: "b", script: "true" }]),
    });
    const missing = await apiError(sim.core.readNamespacedPodLog({ namespace: "default", name: "two-containers" }));
    expect(missing.code).toBe(400);
    expect(missing.body.message).toBe("a container name must be specified for pod two-containers, choose one of: [a b]");
    sim.cluster.faults.holdInContainerCreating("default/held");
    await sim.core.createNamespacedPod({ namespace: "default", body: pod("held", [{ name: "main", script: "true" }]) });
    await eventually(() => ((sim.cluster.store.get("pods", "default", "held")?.spec as { nodeName?: string }).nodeName ? true : undefined));
    const waiting = await apiError(sim.core.readNamespacedPodLog({ namespace: "default", name: "held" }));
    expect(waiting.body.message).toBe('container "main" in pod "held" is waiting to start: ContainerCreating');
    sim.cluster.faults.releaseContainerCreating("default/held");
  });

  it("follows a running container until it terminates", async () => {
    await sim.core.createNamespacedPod({ namespace: "default", body: pod("follower", [{ name: "main", script: "echo start; sleep 0.3; echo end" }]) });
    await eventually(() => (phaseOf("follower") === "Running" ? true : undefined), 15_000, "the pod to run");
    const response = await fetch(`${sim.cluster.url}/api/v1/namespaces/default/pods/follower/log?follow=true`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("start\nend\n");
  });
});
