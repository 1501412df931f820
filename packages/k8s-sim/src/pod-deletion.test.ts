import { beforeEach, describe, expect, it } from "vitest";
import { deletePod } from "./pod-deletion.ts";
import { ObjectStore } from "./store.ts";

let store: ObjectStore;

beforeEach(() => {
  store = new ObjectStore();
});

function createPod(name: string, spec: Record<string, unknown>, phase = "Running", finalizers?: string[]): void {
  store.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", ...(finalizers ? { finalizers } : {}) },
    spec: { containers: [{ name: "main" }], ...spec },
    status: { phase },
  });
}

describe("deletePod", () => {
  it("marks a running bound pod for graceful deletion with the pod's own grace period", () => {
    createPod("bound", { nodeName: "node-1", terminationGracePeriodSeconds: 5 });
    const result = deletePod(store, "default", "bound");
    expect(result?.removed).toBe(false);
    const stored = store.get("pods", "default", "bound");
    expect(stored?.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(stored?.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(result?.pod.metadata.resourceVersion).toBe(stored?.metadata.resourceVersion);
  });

  it("defaults the grace period to 30 seconds and lets a later delete shorten it, never lengthen it", () => {
    createPod("bound", { nodeName: "node-1" });
    deletePod(store, "default", "bound");
    const first = store.get("pods", "default", "bound");
    expect(first?.metadata.deletionGracePeriodSeconds).toBe(30);
    deletePod(store, "default", "bound", 60);
    expect(store.get("pods", "default", "bound")?.metadata.deletionGracePeriodSeconds).toBe(30);
    deletePod(store, "default", "bound", 3);
    const shortened = store.get("pods", "default", "bound");
    expect(shortened?.metadata.deletionGracePeriodSeconds).toBe(3);
    expect(shortened?.metadata.deletionTimestamp).toBe(first?.metadata.deletionTimestamp);
  });

  it("removes unbound pods, finished pods and force deletions (grace 0) at once", () => {
    createPod("unbound", {}, "Pending");
    createPod("finished", { nodeName: "node-1" }, "Succeeded");
    createPod("forced", { nodeName: "node-1" });
    for (const name of ["unbound", "finished"]) {
      expect(deletePod(store, "default", name)?.removed).toBe(true);
    }
    const forced = deletePod(store, "default", "forced", 0);
    expect(forced).toMatchObject({ removed: true, pod: { metadata: { name: "forced" } } });
    expect(store.list("pods").items).toEqual([]);
  });

  it("keeps a pod with finalizers, marked, until they are removed", () => {
    createPod("guarded", {}, "Pending", ["example.com/hold"]);
    expect(deletePod(store, "default", "guarded")?.removed).toBe(false);
    const stored = store.get("pods", "default", "guarded");
    expect(stored?.metadata.deletionTimestamp).toBeDefined();
    expect(stored?.metadata.deletionGracePeriodSeconds).toBe(0);
  });

  it("returns undefined for a pod that does not exist, and rejects a bad grace period", () => {
    expect(deletePod(store, "default", "missing")).toBeUndefined();
    createPod("bound", { nodeName: "node-1" });
    expect(() => deletePod(store, "default", "bound", -1)).toThrow("gracePeriodSeconds must be a non-negative integer, got -1");
    expect(() => deletePod(store, "default", "bound", 1.5)).toThrow("non-negative integer");
  });
});
