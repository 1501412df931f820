import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { objectAt, objectsAt } from "../api/json.ts";
import type { K8sObject } from "../store.ts";
import { ObjectStore } from "../store.ts";
import { kubeTimestamp } from "./conditions.ts";
import { JobController } from "./job-controller.ts";
import { TtlAfterFinishedController } from "./ttl-after-finished.ts";

let store: ObjectStore;
let controllers: { start(): void; stop(): Promise<void> }[];
const errors: unknown[] = [];

beforeEach(() => {
  store = new ObjectStore();
  // The Job controller's pods go through service-account admission: the account the service-account controller keeps.
  store.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "default" } });
  errors.length = 0;
  controllers = [new TtlAfterFinishedController(store, { onError: (error) => errors.push(error) })];
  for (const controller of controllers) controller.start();
});

afterEach(async () => {
  for (const controller of controllers) await controller.stop();
  expect(errors).toEqual([]);
});

function finishedCondition(type: "Complete" | "Failed", at: number): Record<string, unknown> {
  const time = kubeTimestamp(at);
  return { type, status: "True", lastProbeTime: time, lastTransitionTime: time, reason: "r", message: "m" };
}

function createJob(name: string, ttlSecondsAfterFinished: number | undefined, conditions: Record<string, unknown>[]): K8sObject {
  return store.create("jobs", {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default" },
    spec: {
      ...(ttlSecondsAfterFinished === undefined ? {} : { ttlSecondsAfterFinished }),
      template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox" }] } },
    },
    status: { conditions },
  });
}

function createOwnedPod(job: K8sObject, name: string, spec: Record<string, unknown>, phase: string): void {
  store.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "Job", name: job.metadata.name ?? "", uid: job.metadata.uid ?? "", controller: true },
      ],
    },
    spec: { containers: [{ name: "main" }], ...spec },
    status: { phase },
  });
}

describe("TtlAfterFinishedController", () => {
  it("deletes a Job whose TTL has run out, and its pods by the pod deletion rule", async () => {
    const job = createJob("old", 1, [finishedCondition("Failed", Date.now() - 5000)]);
    createOwnedPod(job, "old-done", { nodeName: "node-1" }, "Failed");
    createOwnedPod(job, "old-running", { nodeName: "node-1" }, "Running");
    createOwnedPod(job, "old-pending", {}, "Pending");

    await vi.waitFor(() => expect(store.get("jobs", "default", "old")).toBeUndefined());
    expect(store.list("pods").items.map((pod) => pod.metadata.name)).toEqual(["old-running"]);
    expect(store.get("pods", "default", "old-running")?.metadata.deletionTimestamp).toBeDefined();
  });

  it("waits for the TTL with a timer, measured from the finish time", async () => {
    createJob("recent", 1, [finishedCondition("Complete", Date.now())]);
    createJob("kept", 3600, [finishedCondition("Complete", Date.now())]);
    await vi.waitFor(() => expect(store.get("jobs", "default", "recent")).toBeUndefined(), { timeout: 5000 });
    expect(store.get("jobs", "default", "kept")).toBeDefined();
  });

  it("leaves unfinished Jobs and Jobs without a TTL alone, and acts once a Job finishes", async () => {
    createJob("no-ttl", undefined, [finishedCondition("Complete", Date.now() - 5000)]);
    createJob("running", 0, [{ type: "SuccessCriteriaMet", status: "True" }]);
    createJob("marker", 0, [finishedCondition("Complete", Date.now())]);
    await vi.waitFor(() => expect(store.get("jobs", "default", "marker")).toBeUndefined());
    expect(store.get("jobs", "default", "no-ttl")).toBeDefined();
    expect(store.get("jobs", "default", "running")).toBeDefined();

    store.mutate("jobs", "default", "running", (current) => {
      current.status = { conditions: [...objectsAt(objectAt(current, "status"), "conditions"), finishedCondition("Complete", Date.now())] };
    });
    await vi.waitFor(() => expect(store.get("jobs", "default", "running")).toBeUndefined());
  });

  it("removes a Job the Job controller completed when ttlSecondsAfterFinished is 0", async () => {
    const jobController = new JobController(store, { onError: (error) => errors.push(error) });
    controllers.push(jobController);
    jobController.start();
    const job = createJob("quick", 0, []);
    const pod = await vi.waitFor(() => {
      const [first] = store.list("pods").items;
      expect(first).toBeDefined();
      return first as K8sObject;
    });
    store.mutate("pods", "default", pod.metadata.name ?? "", (current) => {
      current.status = { phase: "Succeeded" };
    });
    await vi.waitFor(() => expect(store.get("jobs", "default", "quick")).toBeUndefined());
    expect(store.list("pods", { filter: (p) => p.metadata.ownerReferences?.[0]?.uid === job.metadata.uid }).items).toEqual([]);
  });
});
