import type { K8sObject, ObjectStore } from "./store.ts";

export type EventType = "Normal" | "Warning";

/**
 * Records a core/v1 Event about an object, as kubelet and controllers do. Repeats of the same
 * reason and message for the same object bump `count` instead of adding a new Event.
 */
export function recordEvent(
  store: ObjectStore,
  involved: K8sObject,
  type: EventType,
  reason: string,
  message: string,
  component: string,
): void {
  const namespace = involved.metadata.namespace ?? "default";
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const existing = store
    .list("events", {
      namespace,
      filter: (event) => {
        const ref = event.involvedObject as { uid?: string } | undefined;
        return ref?.uid === involved.metadata.uid && event.reason === reason && event.message === message;
      },
    })
    .items[0];
  if (existing?.metadata.name) {
    store.mutate("events", namespace, existing.metadata.name, (event) => {
      event.count = Number(event.count ?? 1) + 1;
      event.lastTimestamp = now;
    });
    return;
  }
  store.create("events", {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${involved.metadata.name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 6)}`, namespace },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      name: involved.metadata.name,
      namespace,
      uid: involved.metadata.uid,
      resourceVersion: involved.metadata.resourceVersion,
    },
    type,
    reason,
    message,
    source: { component },
    reportingComponent: component,
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
  });
}
