import { numberAt, objectAt } from "./api/json.ts";
import { kubeTimestamp } from "./controllers/conditions.ts";
import { isPodTerminal, podNodeName } from "./controllers/pods.ts";
import type { K8sObject, ObjectStore } from "./store.ts";

export interface PodDeletion {
  /** The pod as it now stands: marked for graceful deletion, or its last state when removed. */
  pod: K8sObject;
  /** True when the pod is gone from the store; false when it waits for the kubelet (or finalizers). */
  removed: boolean;
}

/** Kubernetes' default `terminationGracePeriodSeconds`. */
const DEFAULT_GRACE_PERIOD_SECONDS = 30;

/**
 * Deletes a pod as the API server does. A pod bound to a node and still running is only marked
 * (`deletionTimestamp`, `deletionGracePeriodSeconds`): the kubelet kills it and then removes it.
 * An unbound or terminal pod, or a grace period of 0 (force), is removed at once. A repeated
 * delete may shorten the grace period, never lengthen it. Pods with finalizers stay until those go.
 * Returns undefined when the pod does not exist. Idempotent.
 */
export function deletePod(
  store: ObjectStore,
  namespace: string,
  name: string,
  gracePeriodSeconds?: number,
): PodDeletion | undefined {
  const pod = store.get("pods", namespace, name);
  if (!pod) return undefined;
  if (gracePeriodSeconds !== undefined && (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0)) {
    throw new Error(`gracePeriodSeconds must be a non-negative integer, got ${gracePeriodSeconds}`);
  }
  const grace =
    gracePeriodSeconds ?? numberAt(objectAt(pod, "spec"), "terminationGracePeriodSeconds") ?? DEFAULT_GRACE_PERIOD_SECONDS;
  const immediate = grace === 0 || !podNodeName(pod) || isPodTerminal(pod);
  const marked = pod.metadata.deletionGracePeriodSeconds;

  if (immediate && (pod.metadata.finalizers ?? []).length === 0) {
    const removed = store.remove("pods", namespace, name);
    return removed ? { pod: removed, removed: true } : undefined;
  }
  const effectiveGrace = immediate ? 0 : Math.min(grace, marked ?? grace);
  const updated = store.mutate("pods", namespace, name, (current) => {
    current.metadata.deletionTimestamp ??= kubeTimestamp();
    current.metadata.deletionGracePeriodSeconds = effectiveGrace;
  });
  return updated ? { pod: updated, removed: false } : undefined;
}
