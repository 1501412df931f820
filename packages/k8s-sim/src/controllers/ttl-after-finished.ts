import { numberAt, objectAt, stringAt } from "../api/json.ts";
import { deleteObject } from "../deletion.ts";
import { deletePod } from "../pod-deletion.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { findCondition } from "./conditions.ts";
import { isControlledBy } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

export interface TtlAfterFinishedOptions {
  onError?: ReconcileErrorHandler;
}

/**
 * Deletes a finished Job (`Complete` or `Failed`) `spec.ttlSecondsAfterFinished` seconds after it
 * finished, with its pods (Background propagation: the Job goes at once, its pods through the
 * normal pod deletion, which the garbage collector may also do: both are idempotent). One timer
 * per Job, no polling. (The real controller asks for Foreground propagation; the end state is the same.)
 */
export class TtlAfterFinishedController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;

  constructor(store: ObjectStore, options: TtlAfterFinishedOptions = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: "ttl-after-finished-controller", reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "jobs", (event) => {
      if (event.type !== "DELETED") this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name));
    });
    for (const job of this.store.list("jobs").items) this.loop.enqueue(objectKey(job.metadata.namespace, job.metadata.name));
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const job = this.store.peek("jobs", namespace, name);
    if (!job || job.metadata.deletionTimestamp) return;
    const ttlSeconds = numberAt(objectAt(job, "spec"), "ttlSecondsAfterFinished");
    const finishedAt = finishTime(job);
    if (ttlSeconds === undefined || finishedAt === undefined) return;
    const remainingMs = finishedAt + ttlSeconds * 1000 - Date.now();
    if (remainingMs > 0) {
      this.loop.enqueueAfter(key, remainingMs);
      return;
    }
    deleteObject(this.store, "jobs", namespace, name, { propagationPolicy: "Background" });
    const pods = this.store.owned("pods", namespace, job.metadata.uid ?? "").filter((pod) => isControlledBy(pod, job.metadata.uid));
    for (const pod of pods) deletePod(this.store, namespace, pod.metadata.name ?? "");
  }
}

/** When the Job finished: the transition time of its true `Complete` or `Failed` condition. */
function finishTime(job: K8sObject): number | undefined {
  const status = objectAt(job, "status");
  for (const type of ["Complete", "Failed"]) {
    const condition = findCondition(status, type);
    const at = stringAt(condition, "lastTransitionTime");
    if (stringAt(condition, "status") === "True" && at !== undefined) {
      const parsed = Date.parse(at);
      if (!Number.isNaN(parsed)) return parsed;
    }
  }
  return undefined;
}
