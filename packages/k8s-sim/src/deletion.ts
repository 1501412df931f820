import { objectAt } from "./api/json.ts";
import { kubeTimestamp } from "./controllers/conditions.ts";
import { deletePod } from "./pod-deletion.ts";
import type { K8sObject, ObjectStore } from "./store.ts";

export type PropagationPolicy = "Background" | "Foreground" | "Orphan";

export const PROPAGATION_POLICIES: readonly PropagationPolicy[] = ["Background", "Foreground", "Orphan"];

export const ORPHAN_FINALIZER = "orphan";
export const FOREGROUND_FINALIZER = "foregroundDeletion";

export interface DeleteRequest {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
}

export interface DeleteOutcome {
  /** The object as removed, or as it stands while its deletion is pending. */
  object: K8sObject;
  /** False while finalizers, a graceful pod termination or a namespace's contents hold it. */
  removed: boolean;
}

/** What a DELETE without a policy means: batch/v1 Jobs still orphan their pods (kept for compatibility), the rest cascade. */
export function defaultPropagationPolicy(resource: string): PropagationPolicy {
  return resource === "jobs" ? "Orphan" : "Background";
}

/**
 * Deletes an object the way the API server does: pods go through `deletePod` (graceful while
 * bound and running; the kubelet removes them), Foreground and Orphan add their
 * finalizer for the garbage collector, namespaces enter Terminating for the namespace controller,
 * everything else goes at once (Background: the garbage collector then removes dependents).
 * Returns undefined when the object does not exist.
 */
export function deleteObject(
  store: ObjectStore,
  resource: string,
  namespace: string | undefined,
  name: string,
  request: DeleteRequest = {},
): DeleteOutcome | undefined {
  const current = store.get(resource, namespace, name);
  if (!current) return undefined;
  const policy = request.propagationPolicy ?? defaultPropagationPolicy(resource);
  const finalizer = policy === "Orphan" ? ORPHAN_FINALIZER : policy === "Foreground" ? FOREGROUND_FINALIZER : undefined;
  const alreadyDeleting = current.metadata.deletionTimestamp !== undefined;
  if (finalizer && !alreadyDeleting && !current.metadata.finalizers?.includes(finalizer)) {
    store.mutate(resource, namespace, name, (object) => {
      object.metadata.finalizers = [...(object.metadata.finalizers ?? []), finalizer];
    });
  }
  if (resource === "pods") {
    const outcome = deletePod(store, namespace ?? "", name, request.gracePeriodSeconds);
    return outcome && { object: outcome.pod, removed: outcome.removed };
  }
  const held = (current.metadata.finalizers?.length ?? 0) > 0 || finalizer !== undefined || resource === "namespaces";
  if (!held) return { object: store.remove(resource, namespace, name) ?? current, removed: true };
  if (alreadyDeleting) return { object: store.get(resource, namespace, name) ?? current, removed: false };
  const pending = store.mutate(resource, namespace, name, (object) => {
    object.metadata.deletionTimestamp = kubeTimestamp();
    object.metadata.deletionGracePeriodSeconds = 0;
    if (resource === "namespaces") object.status = { ...objectAt(object, "status"), phase: "Terminating" };
  });
  return { object: pending ?? current, removed: false };
}

/**
 * Removes an object whose deletion was pending once nothing holds it any more: no finalizers
 * left and (for pods) no kubelet still stopping it. Namespaces are the namespace controller's.
 * Returns whether it was removed.
 */
export function removeIfFinalized(store: ObjectStore, resource: string, object: K8sObject): boolean {
  if (!object.metadata.deletionTimestamp || object.metadata.finalizers?.length || resource === "namespaces") return false;
  if (resource === "pods") return deletePod(store, object.metadata.namespace ?? "", object.metadata.name ?? "")?.removed === true;
  return store.remove(resource, object.metadata.namespace, object.metadata.name ?? "") !== undefined;
}
