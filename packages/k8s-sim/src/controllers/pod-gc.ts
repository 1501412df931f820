import { objectAt } from "../api/json.ts";
import { deletePod } from "../pod-deletion.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { setCondition } from "./conditions.ts";
import { isPodTerminal, podNodeName } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

export interface PodGcOptions {
  onError?: ReconcileErrorHandler;
}

/**
 * PodGC for orphaned pods: a pod bound to a node that no longer exists is marked failed
 * (`DisruptionTarget` with reason `DeletionByPodGC`, phase `Failed`) unless it already finished,
 * then force-deleted. Kubernetes waits 40 s before treating such a pod as orphaned; the sim acts at once.
 */
export class PodGarbageCollector {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;

  constructor(store: ObjectStore, options: PodGcOptions = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: "pod-garbage-collector", reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "nodes", (event) => {
      if (event.type === "DELETED") this.enqueuePodsOn(event.object.metadata.name);
    });
    this.loop.listen(this.store, "pods", (event) => {
      const node = podNodeName(event.object);
      if (event.type !== "DELETED" && node && !this.store.peek("nodes", undefined, node)) {
        this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name));
      }
    });
    this.enqueuePodsOn(undefined);
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  /** Queues the bound pods on one node (or on any node); sync decides whether they are orphans. */
  private enqueuePodsOn(node: string | undefined): void {
    const filter = (pod: K8sObject) => {
      const boundTo = podNodeName(pod);
      return boundTo !== undefined && (node === undefined || boundTo === node);
    };
    for (const pod of this.store.list("pods", { filter }).items) {
      this.loop.enqueue(objectKey(pod.metadata.namespace, pod.metadata.name));
    }
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const pod = this.store.peek("pods", namespace, name);
    const node = pod && podNodeName(pod);
    if (!node || this.store.peek("nodes", undefined, node)) return;
    if (!isPodTerminal(pod)) {
      this.store.mutate("pods", namespace, name, (current) => {
        const status = objectAt(current, "status") ?? {};
        setCondition(
          status,
          { type: "DisruptionTarget", status: "True", reason: "DeletionByPodGC", message: "PodGC: node no longer exists" },
          null,
        );
        status.phase = "Failed";
        current.status = status;
      });
    }
    deletePod(this.store, namespace, name, 0);
  }
}
