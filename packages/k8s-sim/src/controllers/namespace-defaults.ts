import { ROOT_CA_CONFIGMAP } from "../admission/pod-admission.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop } from "./reconcile-loop.ts";

/** One object every live namespace has, kept there (re-created when deleted) as its controller does. */
interface NamespaceDefault {
  resource: string;
  name: string;
  build(namespace: string): K8sObject;
}

/**
 * What the service-account controller and the root-CA publisher do: every namespace that is not
 * being deleted has a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap with the
 * cluster's CA (which the projected service-account volume reads).
 */
export class NamespaceDefaultsController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;
  private readonly defaults: NamespaceDefault[];

  constructor(store: ObjectStore, caCertPem: string, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.defaults = [
      {
        resource: "serviceaccounts",
        name: "default",
        build: (namespace) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } }),
      },
      {
        resource: "configmaps",
        name: ROOT_CA_CONFIGMAP,
        build: (namespace) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { "kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters." } },
          data: { "ca.crt": caCertPem },
        }),
      },
    ];
    this.loop = new ReconcileLoop({ controller: "namespace-defaults", reconcile: (name) => this.sync(name), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "namespaces", (event) => {
      if (event.type !== "DELETED") this.loop.enqueue(event.object.metadata.name ?? "");
    });
    for (const entry of this.defaults) {
      this.loop.listen(this.store, entry.resource, (event) => {
        if (event.type === "DELETED" && event.object.metadata.name === entry.name) this.loop.enqueue(event.object.metadata.namespace ?? "");
      });
    }
    for (const namespace of this.store.list("namespaces").items) this.sync(namespace.metadata.name ?? "");
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  private sync(name: string): void {
    const namespace = this.store.get("namespaces", undefined, name);
    if (!namespace || namespace.metadata.deletionTimestamp) return;
    for (const entry of this.defaults) {
      if (this.store.get(entry.resource, name, entry.name)) continue;
      this.store.create(entry.resource, entry.build(name));
    }
  }
}
