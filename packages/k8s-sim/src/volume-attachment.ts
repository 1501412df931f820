import { objectAt, objectsAt, stringAt } from "./api/json.ts";
import type { ObjectStore, SharedObject } from "./store.ts";

/**
 * Which claims must be attached to a node before a pod there may mount them, and where the
 * attachment is recorded. As on a cluster, a volume whose access modes are all ReadWriteOnce (or
 * ReadWriteOncePod) attaches to one node at a time; ReadWriteMany / ReadOnlyMany volumes (and a
 * claim without modes) may be used from any node. Attachments live in the node's
 * `status.volumesAttached`, written by the attach/detach controller and read by the kubelet.
 */

/** The volume's name in events and node status: the bound PersistentVolume's name. */
function claimVolumeName(claim: SharedObject): string {
  return stringAt(objectAt(claim, "spec"), "volumeName") || `pvc-${claim.metadata.uid ?? ""}`;
}

/** Whether the claim's volume may be attached to only one node at a time. */
function isSingleNodeClaim(claim: SharedObject): boolean {
  const modes = objectAt(claim, "status")?.accessModes ?? objectAt(claim, "spec")?.accessModes;
  if (!Array.isArray(modes) || modes.length === 0) return false;
  return !modes.some((mode) => mode === "ReadWriteMany" || mode === "ReadOnlyMany");
}

/** The unique name under which a node lists an attached volume. */
export function attachedVolumeName(volumeName: string): string {
  return `kubernetes.io/k8s-sim/${volumeName}`;
}

/** The single-node claims a pod mounts, with their volume names. */
export function singleNodeVolumesOf(store: ObjectStore, pod: SharedObject): { claim: string; volumeName: string }[] {
  const found: { claim: string; volumeName: string }[] = [];
  for (const volume of objectsAt(objectAt(pod, "spec"), "volumes")) {
    const claimName = stringAt(objectAt(volume, "persistentVolumeClaim"), "claimName");
    if (!claimName) continue;
    const claim = store.peek("persistentvolumeclaims", pod.metadata.namespace, claimName);
    if (claim && isSingleNodeClaim(claim)) found.push({ claim: claimName, volumeName: claimVolumeName(claim) });
  }
  return found;
}

/** The attached volume names a node's status lists. */
export function volumesAttachedTo(node: SharedObject | undefined): Set<string> {
  return new Set(objectsAt(objectAt(node, "status"), "volumesAttached").map((entry) => stringAt(entry, "name") ?? ""));
}
