import { STORED_RESOURCES } from "../api/resources.ts";
import { deleteObject } from "../deletion.ts";
import type { ObjectStore } from "../store.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop } from "./reconcile-loop.ts";

const NAMESPACED = STORED_RESOURCES.filter((r) => r.namespaced).map((r) => r.plural);

/**
 * The namespace controller: a namespace being deleted (phase Terminating) has its contents
 * deleted (pods gracefully, through their kubelet), and goes once nothing is left in it.
 */
export class NamespaceController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: "namespace-controller", reconcile: (name) => this.sync(name), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "namespaces", (event) => {
      if (event.type !== "DELETED" && event.object.metadata.deletionTimestamp) this.loop.enqueue(event.object.metadata.name ?? "");
    });
    for (const resource of NAMESPACED) {
      this.loop.listen(this.store, resource, (event) => {
        const namespace = event.object.metadata.namespace;
        if (namespace && this.store.peek("namespaces", undefined, namespace)?.metadata.deletionTimestamp) this.loop.enqueue(namespace);
      });
    }
    for (const namespace of this.store.list("namespaces").items) {
      if (namespace.metadata.deletionTimestamp) this.loop.enqueue(namespace.metadata.name ?? "");
    }
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  private sync(name: string): void {
    const namespace = this.store.peek("namespaces", undefined, name);
    if (!namespace?.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const resource of NAMESPACED) {
      for (const object of this.store.scan(resource, { namespace: name })) {
        remaining++;
        if (!object.metadata.deletionTimestamp) {
          deleteObject(this.store, resource, name, object.metadata.name ?? "", { propagationPolicy: "Background" });
        }
      }
    }
    if (remaining === 0) this.store.remove("namespaces", undefined, name);
  }
}
