import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { objectAt } from "../api/json.ts";
import type { K8sObject } from "../store.ts";
import { ObjectStore } from "../store.ts";
import { findCondition } from "./conditions.ts";
import { Scheduler } from "./scheduler.ts";

let store: ObjectStore;
let scheduler: Scheduler;
const errors: unknown[] = [];

beforeEach(() => {
  store = new ObjectStore();
  errors.length = 0;
  scheduler = new Scheduler(store, { onError: (error) => errors.push(error) });
  scheduler.start();
});

afterEach(async () => {
  await scheduler.stop();
  expect(errors).toEqual([]);
});

interface NodeShape {
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  allocatable?: Record<string, string>;
  ready?: boolean;
  unschedulable?: boolean;
}

function createNode(name: string, shape: NodeShape = {}): void {
  store.create("nodes", {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...shape.labels } },
    spec: { ...(shape.taints ? { taints: shape.taints } : {}), ...(shape.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: shape.allocatable ?? { cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [{ type: "Ready", status: shape.ready === false ? "False" : "True" }],
    },
  });
}

function createPod(name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>): K8sObject {
  return store.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { containers: [{ name: "main", image: "busybox", ...(requests ? { resources: { requests } } : {}) }], ...spec },
    status: { phase: "Pending" },
  });
}

function podState(name: string): { node: unknown; scheduled: Record<string, unknown> | undefined } {
  const pod = store.get("pods", "default", name);
  return { node: objectAt(pod, "spec")?.nodeName, scheduled: findCondition(objectAt(pod, "status"), "PodScheduled") };
}

async function boundTo(name: string): Promise<unknown> {
  return vi.waitFor(() => {
    const { node } = podState(name);
    expect(node).toBeDefined();
    return node;
  });
}

async function unschedulableMessage(name: string): Promise<unknown> {
  return vi.waitFor(() => {
    const { scheduled } = podState(name);
    expect(scheduled).toMatchObject({ status: "False", reason: "Unschedulable" });
    return scheduled?.message;
  });
}

function events(involvedName: string): { type: unknown; reason: unknown; message: unknown; count: unknown; component: unknown }[] {
  return store
    .list("events", { filter: (event) => objectAt(event, "involvedObject")?.name === involvedName })
    .items.map((event) => ({
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: event.count,
      component: objectAt(event, "source")?.component,
    }));
}

describe("Scheduler placement", () => {
  it("binds a pod: nodeName, PodScheduled=True and a Scheduled event from default-scheduler", async () => {
    createNode("node-a");
    createPod("web");
    expect(await boundTo("web")).toBe("node-a");
    const { scheduled } = podState("web");
    expect(scheduled).toEqual({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: expect.stringMatching(/Z$/) });
    expect(events("web")).toEqual([
      { type: "Normal", reason: "Scheduled", message: "Successfully assigned default/web to node-a", count: 1, component: "default-scheduler" },
    ]);
  });

  it("honours nodeSelector", async () => {
    createNode("hdd", { labels: { disk: "hdd" } });
    createNode("ssd", { labels: { disk: "ssd" } });
    createPod("db", { nodeSelector: { disk: "ssd" } });
    expect(await boundTo("db")).toBe("ssd");
  });

  it("picks the least loaded node that fits", async () => {
    createNode("busy");
    createNode("idle");
    store.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "existing", namespace: "default" },
      spec: { nodeName: "busy", containers: [{ name: "main", resources: { requests: { cpu: "2", memory: "1Gi" } } }] },
      status: { phase: "Running" },
    });
    createPod("new", {}, { cpu: "500m", memory: "256Mi" });
    expect(await boundTo("new")).toBe("idle");
  });

  it("lets a toleration through a NoSchedule taint, ignores PreferNoSchedule", async () => {
    createNode("tainted", { taints: [{ key: "dedicated", value: "agents", effect: "NoSchedule" }, { key: "soft", effect: "PreferNoSchedule" }] });
    createPod("equal", { tolerations: [{ key: "dedicated", operator: "Equal", value: "agents", effect: "NoSchedule" }] });
    createPod("exists-all", { tolerations: [{ operator: "Exists" }] });
    createPod("wrong-value", { tolerations: [{ key: "dedicated", value: "other" }] });
    expect(await boundTo("equal")).toBe("tainted");
    expect(await boundTo("exists-all")).toBe("tainted");
    expect(await unschedulableMessage("wrong-value")).toBe(
      "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: agents}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  it("counts init containers as their maximum, not their sum, and uses limits as requests when requests are absent", async () => {
    createNode("small", { allocatable: { cpu: "2", memory: "1Gi", pods: "10" } });
    createPod("fits", {
      initContainers: [{ name: "init", resources: { requests: { cpu: "2" } } }],
      containers: [
        { name: "a", resources: { requests: { cpu: "1" } } },
        { name: "b", resources: { limits: { cpu: "500m", memory: "1Gi" } } },
      ],
    });
    expect(await boundTo("fits")).toBe("small");
    createPod("too-big", { initContainers: [{ name: "init", resources: { requests: { cpu: "1500m" } } }] });
    expect(await unschedulableMessage("too-big")).toBe(
      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  it("leaves pods for another scheduler alone", async () => {
    createNode("node-a");
    createPod("other", { schedulerName: "custom" });
    createPod("mine");
    await boundTo("mine");
    expect(podState("other")).toEqual({ node: undefined, scheduled: undefined });
  });
});

describe("Scheduler failures", () => {
  it("explains an unschedulable pod as kube-scheduler does, with one event per change of verdict", async () => {
    createNode("small", { allocatable: { cpu: "1", memory: "8Gi", pods: "110" } });
    createNode("gpu-1", { labels: { accelerator: "gpu" } });
    createNode("gpu-2", { labels: { accelerator: "gpu" } });
    createPod("big", { nodeSelector: { "kubernetes.io/hostname": "small" } }, { cpu: "2" });
    const message =
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. " +
      "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    expect(await unschedulableMessage("big")).toBe(message);
    expect(podState("big").node).toBeUndefined();

    // Node changes retry the pod; each new verdict is reported once.
    createNode("gpu-3", { labels: { accelerator: "gpu" } });
    await vi.waitFor(() => expect(String(podState("big").scheduled?.message)).toContain("0/4 nodes are available"));
    store.remove("nodes", undefined, "gpu-3");
    await vi.waitFor(() => expect(podState("big").scheduled?.message).toBe(message));
    const failed = events("big");
    expect(failed.map((event) => [event.type, event.reason, event.component])).toEqual([
      ["Warning", "FailedScheduling", "default-scheduler"],
      ["Warning", "FailedScheduling", "default-scheduler"],
    ]);
    expect(failed.find((event) => event.message === message)?.count).toBe(2);
  });

  it("names unschedulable, not-ready and full nodes", async () => {
    createNode("cordoned", { unschedulable: true });
    createNode("down", { ready: false });
    createNode("full", { allocatable: { cpu: "4", memory: "8Gi", pods: "0" } });
    createPod("p");
    expect(await unschedulableMessage("p")).toBe(
      "0/3 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. " +
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
  });

  it("reports no nodes at all", async () => {
    createPod("lonely");
    expect(await unschedulableMessage("lonely")).toBe("no nodes available to schedule pods");
  });

  it("schedules a waiting pod once a bound pod finishes and frees the node", async () => {
    createNode("only", { allocatable: { cpu: "1", memory: "1Gi", pods: "10" } });
    createPod("first", {}, { cpu: "1" });
    await boundTo("first");
    createPod("second", {}, { cpu: "1" });
    await unschedulableMessage("second");

    store.mutate("pods", "default", "first", (pod) => {
      pod.status = { phase: "Succeeded" };
    });
    expect(await boundTo("second")).toBe("only");
    expect(podState("second").scheduled).toMatchObject({ status: "True" });
    expect(podState("second").scheduled?.reason).toBeUndefined();
  });

  it("schedules a waiting pod when a fitting node joins", async () => {
    createNode("plain");
    createPod("picky", { nodeSelector: { zone: "b" } });
    await unschedulableMessage("picky");
    createNode("zone-b", { labels: { zone: "b" } });
    expect(await boundTo("picky")).toBe("zone-b");
  });

  it("holds a pod whose PersistentVolumeClaim does not exist until the claim appears", async () => {
    createNode("node-a");
    createPod("needs-claim", { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "work" } }] });
    const message =
      '0/1 nodes are available: persistentvolumeclaim "work" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
    expect(await unschedulableMessage("needs-claim")).toBe(message);
    expect(events("needs-claim").map((event) => event.reason)).toEqual(["FailedScheduling"]);

    store.create("persistentvolumeclaims", {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "work", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    expect(await boundTo("needs-claim")).toBe("node-a");
  });
});
