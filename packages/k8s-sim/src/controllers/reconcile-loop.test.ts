import { describe, expect, it, vi } from "vitest";
import { ObjectStore } from "../store.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

function recordingLoop(fail: (key: string) => boolean = () => false) {
  const reconciled: string[] = [];
  const errors: string[] = [];
  const loop = new ReconcileLoop({
    controller: "test",
    reconcile: (key) => {
      if (fail(key)) throw new Error(`cannot ${key}`);
      reconciled.push(key);
    },
    onError: (error, controller, key) => errors.push(`${controller} ${key}: ${error instanceof Error ? error.message : ""}`),
  });
  return { loop, reconciled, errors };
}

describe("ReconcileLoop", () => {
  it("reconciles each dirty key once per turn, outside the caller", async () => {
    const { loop, reconciled } = recordingLoop();
    loop.enqueue("a");
    loop.enqueue("b");
    loop.enqueue("a");
    expect(reconciled).toEqual([]);
    await vi.waitFor(() => expect(reconciled).toEqual(["a", "b"]));
    loop.stop();
  });

  it("reports a failing key and carries on with the others", async () => {
    const { loop, reconciled, errors } = recordingLoop((key) => key === "bad");
    loop.enqueue("bad");
    loop.enqueue("good");
    await vi.waitFor(() => expect(reconciled).toEqual(["good"]));
    expect(errors).toEqual(["test bad: cannot bad"]);
    loop.stop();
  });

  it("reports a throwing store listener without breaking the store's other listeners", () => {
    const store = new ObjectStore();
    const { loop, errors } = recordingLoop();
    const seen: string[] = [];
    loop.listen(store, "pods", () => {
      throw new Error("listener broke");
    });
    const unsubscribe = store.subscribe("pods", (event) => seen.push(event.object.metadata.name ?? ""));
    store.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" } });
    expect(seen).toEqual(["p"]);
    expect(errors).toEqual(["test pods ADDED p: listener broke"]);
    unsubscribe();
    loop.stop();
  });

  it("keeps the earlier of two delayed wake-ups and drops everything on stop", async () => {
    const { loop, reconciled } = recordingLoop();
    loop.enqueueAfter("soon", 3_600_000);
    loop.enqueueAfter("soon", 1);
    await vi.waitFor(() => expect(reconciled).toEqual(["soon"]));

    const store = new ObjectStore();
    loop.listen(store, "pods", () => loop.enqueue("from-event"));
    loop.enqueueAfter("late", 1);
    loop.enqueue("pending");
    loop.stop();
    store.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" } });
    loop.enqueue("after-stop");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reconciled).toEqual(["soon"]);
  });

  it("splits the keys it builds", () => {
    expect(splitObjectKey(objectKey("ns", "name"))).toEqual({ namespace: "ns", name: "name" });
    expect(splitObjectKey(objectKey(undefined, "node-1"))).toEqual({ namespace: "", name: "node-1" });
  });
});
