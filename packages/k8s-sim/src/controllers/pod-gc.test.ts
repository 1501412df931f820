import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { objectAt } from "../api/json.ts";
import type { K8sObject, StoreEvent } from "../store.ts";
import { ObjectStore } from "../store.ts";
import { findCondition } from "./conditions.ts";
import { JobController } from "./job-controller.ts";
import { PodGarbageCollector } from "./pod-gc.ts";

let store: ObjectStore;
let controllers: { start(): void; stop(): Promise<void> }[];
const errors: unknown[] = [];
let removedPods: K8sObject[];
let unsubscribe: () => void;

beforeEach(() => {
  store = new ObjectStore();
  // The Job controller's pods go through service-account admission: the account the service-account controller keeps.
  store.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "default" } });
  errors.length = 0;
  removedPods = [];
  unsubscribe = store.subscribe("pods", (event: StoreEvent) => {
    if (event.type === "DELETED") removedPods.push(event.object);
  });
  controllers = [new PodGarbageCollector(store, { onError: (error) => errors.push(error) })];
});

afterEach(async () => {
  for (const controller of controllers) await controller.stop();
  unsubscribe();
  expect(errors).toEqual([]);
});

function startAll(): void {
  for (const controller of controllers) controller.start();
}

function createNode(name: string): void {
  store.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name }, status: {} });
}

function createPod(name: string, nodeName: string, phase: string): void {
  store.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName, containers: [{ name: "main" }] },
    status: { phase, conditions: [{ type: "Ready", status: "True" }] },
  });
}

function lastState(name: string): K8sObject | undefined {
  return removedPods.find((pod) => pod.metadata.name === name);
}

describe("PodGarbageCollector", () => {
  it("fails and removes the pods of a removed node, leaving other nodes' pods alone", async () => {
    createNode("node-a");
    createNode("node-b");
    createPod("running-a", "node-a", "Running");
    createPod("done-a", "node-a", "Succeeded");
    createPod("running-b", "node-b", "Running");
    startAll();

    store.remove("nodes", undefined, "node-a");
    await vi.waitFor(() => expect(removedPods.map((pod) => pod.metadata.name).sort()).toEqual(["done-a", "running-a"]));

    const running = objectAt(lastState("running-a"), "status");
    expect(running?.phase).toBe("Failed");
    expect(findCondition(running, "DisruptionTarget")).toEqual({
      type: "DisruptionTarget",
      status: "True",
      lastProbeTime: null,
      lastTransitionTime: expect.stringMatching(/Z$/),
      reason: "DeletionByPodGC",
      message: "PodGC: node no longer exists",
    });
    expect(findCondition(running, "Ready")).toEqual({ type: "Ready", status: "True" });
    // A finished pod keeps its phase and gets no disruption condition.
    const done = objectAt(lastState("done-a"), "status");
    expect(done?.phase).toBe("Succeeded");
    expect(findCondition(done, "DisruptionTarget")).toBeUndefined();
    expect(store.get("pods", "default", "running-b")).toBeDefined();
  });

  it("collects pods already orphaned when it starts, and pods bound later to a missing node", async () => {
    createPod("orphan", "gone", "Running");
    startAll();
    await vi.waitFor(() => expect(lastState("orphan")).toBeDefined());
    createPod("late", "never-existed", "Pending");
    await vi.waitFor(() => expect(lastState("late")).toBeDefined());
  });

  it("makes the Job controller count the lost pod as failed and replace it", async () => {
    controllers.push(new JobController(store, { onError: (error) => errors.push(error) }));
    startAll();
    createNode("node-a");
    store.create("jobs", {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "work", namespace: "default" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] } } },
    });
    const first = await vi.waitFor(() => {
      const [pod] = store.list("pods").items;
      expect(pod).toBeDefined();
      return pod as K8sObject;
    });
    store.mutate("pods", "default", first.metadata.name ?? "", (pod) => {
      pod.spec = { ...objectAt(pod, "spec"), nodeName: "node-a" };
      pod.status = { phase: "Running" };
    });

    store.remove("nodes", undefined, "node-a");
    await vi.waitFor(() => {
      expect(lastState(first.metadata.name ?? "")).toBeDefined();
      expect(objectAt(store.get("jobs", "default", "work"), "status")).toMatchObject({ failed: 1, active: 1 });
    });
  });
});
