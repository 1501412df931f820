import { objectAt, stringAt } from "./api/json.ts";
import type { ObjectStore, SharedObject } from "./store.ts";

export type EventType = "Normal" | "Warning";

/** What makes two Events the same occurrence (whose `count` is bumped instead of adding another). */
function occurrenceKey(namespace: string, involvedUid: string | undefined, reason: unknown, message: unknown): string {
  return JSON.stringify([namespace, involvedUid ?? "", reason, message]);
}

function occurrenceOf(event: SharedObject): string {
  return occurrenceKey(event.metadata.namespace ?? "", stringAt(objectAt(event, "involvedObject"), "uid"), event.reason, event.message);
}

/** Per store: occurrence → name of the Event recording it, kept current from the store's events (no scan per Event). */
const occurrences = new WeakMap<ObjectStore, Map<string, string>>();

function occurrencesIn(store: ObjectStore): Map<string, string> {
  let index = occurrences.get(store);
  if (index) return index;
  const names = new Map<string, string>();
  const add = (event: SharedObject) => {
    const key = occurrenceOf(event);
    if (!names.has(key)) names.set(key, event.metadata.name ?? "");
  };
  for (const event of store.scan("events")) add(event);
  store.subscribe("events", ({ type, object }) => {
    if (type !== "DELETED") add(object);
    else if (names.get(occurrenceOf(object)) === object.metadata.name) names.delete(occurrenceOf(object));
  });
  index = names;
  occurrences.set(store, index);
  return index;
}

/**
 * Records a core/v1 Event about an object, as kubelet and controllers do. Repeats of the same
 * reason and message for the same object bump `count` instead of adding a new Event.
 */
export function recordEvent(
  store: ObjectStore,
  involved: SharedObject,
  type: EventType,
  reason: string,
  message: string,
  component: string,
): void {
  const namespace = involved.metadata.namespace ?? "default";
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const occurrence = occurrenceKey(namespace, involved.metadata.uid, reason, message);
  const existing = occurrencesIn(store).get(occurrence);
  const found = existing === undefined ? undefined : store.peek("events", namespace, existing);
  if (found && occurrenceOf(found) === occurrence) {
    store.mutate("events", namespace, found.metadata.name ?? "", (event) => {
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
