import type { JsonObject } from "../api/json.ts";
import { objectsAt, stringAt } from "../api/json.ts";

/** A timestamp as the API server writes it: RFC 3339, whole seconds, UTC. */
export function kubeTimestamp(at: number = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, "Z");
}

export interface ConditionUpdate {
  type: string;
  status: "True" | "False";
  /** Omitted from the condition when undefined (as for `PodScheduled=True`). */
  reason?: string;
  message?: string;
}

/** The condition of this type in `status.conditions`, if any. */
export function findCondition(status: JsonObject | undefined, type: string): JsonObject | undefined {
  return objectsAt(status, "conditions").find((condition) => condition.type === type);
}

export function isConditionTrue(status: JsonObject | undefined, type: string): boolean {
  return stringAt(findCondition(status, type), "status") === "True";
}

/**
 * Adds or updates a condition in `status.conditions` (in place). `lastTransitionTime` moves only
 * when the status flips; an identical condition is left untouched so the write is a no-op.
 * `probeTime`: Jobs stamp `lastProbeTime`, pods leave it null.
 */
export function setCondition(status: JsonObject, update: ConditionUpdate, probeTime: string | null, now = kubeTimestamp()): void {
  const conditions = objectsAt(status, "conditions");
  const existing = conditions.find((condition) => condition.type === update.type);
  if (!existing) {
    const added: JsonObject = { type: update.type, status: update.status, lastProbeTime: probeTime, lastTransitionTime: now };
    setDetails(added, update);
    conditions.push(added);
  } else if (existing.status !== update.status || existing.reason !== update.reason || existing.message !== update.message) {
    if (existing.status !== update.status) existing.lastTransitionTime = now;
    existing.status = update.status;
    existing.lastProbeTime = probeTime;
    setDetails(existing, update);
  }
  status.conditions = conditions;
}

function setDetails(condition: JsonObject, update: ConditionUpdate): void {
  for (const field of ["reason", "message"] as const) {
    if (update[field] === undefined) delete condition[field];
    else condition[field] = update[field];
  }
}
