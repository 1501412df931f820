import type { JsonObject } from "../api/json.ts";
import { objectAt, objectsAt, stringAt, stringMapAt } from "../api/json.ts";
import type { K8sObject, ObjectStore, StoreEvent } from "../store.ts";
import { controllerReference, isPodReady, isPodTerminal } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

const COMPONENT = "endpointslice-controller";
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
const MANAGED_BY = "endpointslice-controller.k8s.io";

/** A numeric targetPort as is; a named one is the container port of that name in the pod. */
function resolveTargetPort(pod: K8sObject, targetPort: unknown): number | undefined {
  if (typeof targetPort === "number") return targetPort;
  for (const container of objectsAt(objectAt(pod, "spec"), "containers")) {
    const found = objectsAt(container, "ports").find((port) => port.name === targetPort);
    if (typeof found?.containerPort === "number") return found.containerPort;
  }
  return undefined;
}

function selects(service: K8sObject, pod: K8sObject): boolean {
  const selector = stringMapAt(objectAt(service, "spec"), "selector");
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => pod.metadata.labels?.[key] === value);
}

/**
 * The EndpointSlice controller: for each Service with a selector, one slice
 * (`<service>-<5 chars>`, labelled `kubernetes.io/service-name`) listing the selected pods that
 * have an IP and have not finished, with the ready / serving / terminating conditions, and the
 * Service's ports resolved to the pods' target ports (from the first pod, for named ports: the
 * sim keeps one slice per Service). kubectl describe reads it; so does the sim's kube-proxy.
 */
export class EndpointSliceController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: COMPONENT, reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "services", (event) => this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name)));
    this.loop.listen(this.store, "pods", (event) => this.onPodEvent(event));
    for (const service of this.store.list("services").items) this.loop.enqueue(objectKey(service.metadata.namespace, service.metadata.name));
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  /** A pod may have joined or left any Service of its namespace (its labels may have changed). */
  private onPodEvent(event: StoreEvent): void {
    for (const service of this.store.list("services", { namespace: event.object.metadata.namespace }).items) {
      this.loop.enqueue(objectKey(service.metadata.namespace, service.metadata.name));
    }
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const service = this.store.get("services", namespace, name);
    // A deleted Service's slices go with it (garbage collector); a selectorless one manages its own.
    if (!service || Object.keys(stringMapAt(objectAt(service, "spec"), "selector")).length === 0) return;
    const pods = this.store.list("pods", {
      namespace,
      filter: (pod) => selects(service, pod) && !isPodTerminal(pod) && Boolean(stringAt(objectAt(pod, "status"), "podIP")),
    }).items;
    const servicePorts = objectsAt(objectAt(service, "spec"), "ports");
    const first = pods[0];
    const ports = servicePorts.flatMap((port) => {
      const target = first ? resolveTargetPort(first, port.targetPort ?? port.port) : typeof port.targetPort === "number" ? port.targetPort : undefined;
      return target === undefined ? [] : [{ name: stringAt(port, "name") ?? "", port: target, protocol: stringAt(port, "protocol") ?? "TCP" }];
    });
    const endpoints = pods.map((pod): JsonObject => {
      const terminating = pod.metadata.deletionTimestamp !== undefined;
      return {
        addresses: [stringAt(objectAt(pod, "status"), "podIP")],
        conditions: { ready: isPodReady(pod) && !terminating, serving: isPodReady(pod), terminating },
        nodeName: stringAt(objectAt(pod, "spec"), "nodeName"),
        targetRef: { kind: "Pod", namespace, name: pod.metadata.name, uid: pod.metadata.uid },
      };
    });
    const existing = this.store.list("endpointslices", {
      namespace,
      filter: (slice) => slice.metadata.labels?.[SERVICE_NAME_LABEL] === name && slice.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY,
    }).items[0];
    if (existing) {
      this.store.mutate("endpointslices", namespace, existing.metadata.name ?? "", (slice) => {
        slice.endpoints = endpoints;
        slice.ports = ports;
      });
      return;
    }
    this.store.create("endpointslices", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        generateName: `${name}-`,
        namespace,
        labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY },
        ownerReferences: [controllerReference(service)],
      },
      addressType: "IPv4",
      endpoints,
      ports,
    });
  }
}
