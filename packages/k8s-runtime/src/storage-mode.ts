/**
 * Where agent pods may run, given the shared claim's access modes (DESIGN §10 "Storage"). A ReadWriteMany claim
 * (NFS-like) is mounted from any node. A ReadWriteOnce claim (most clusters' default StorageClass: a block
 * volume) attaches to one node at a time, and the Paperclip pod holds it: agent pods must run on that pod's node,
 * or they wait in ContainerCreating on a Multi-Attach error. Placing them there takes required node affinity on
 * `metadata.name` (no extra RBAC: the node's name is in the Paperclip pod's own spec).
 */
import type { ClusterAccess } from "./cluster-access.ts";

export interface StorageMode {
  /** Agent pods must run on this node; null: on any node. */
  agentNode: string | null;
  /** Which mode is in effect and why, for the run log and the environment test. */
  explanation: string;
  /** False when agent pods cannot work with this claim (it is single-node, and the server's node is unknown). */
  usable: boolean;
}

/** Decides the mode from the claim's access modes and the Paperclip pod's node (undefined outside a pod). */
export function storageMode(claimName: string, accessModes: readonly string[], serverNode: string | undefined): StorageMode {
  const modes = accessModes.join(", ") || "none";
  if (accessModes.includes("ReadWriteMany")) {
    return { agentNode: null, usable: true, explanation: `Claim ${claimName} is ReadWriteMany: agent pods run on any node` };
  }
  if (serverNode === undefined) {
    return {
      agentNode: null,
      usable: false,
      explanation: `Claim ${claimName} is not ReadWriteMany (${modes}) and Paperclip does not run in a pod whose node could host the agent pods`,
    };
  }
  return {
    agentNode: serverNode,
    usable: true,
    explanation: `Claim ${claimName} is not ReadWriteMany (${modes}): it attaches to one node, so agent pods run on the Paperclip pod's node ${serverNode}`,
  };
}

const accessModesByClaim = new Map<string, Promise<string[]>>();

/** The claim's access modes; read once per cluster, namespace and claim (Kubernetes never changes them). */
export function readClaimAccessModes(cluster: ClusterAccess, namespace: string, claimName: string): Promise<string[]> {
  const key = JSON.stringify([cluster.key, namespace, claimName]);
  let modes = accessModesByClaim.get(key);
  if (!modes) {
    modes = cluster.core.readNamespacedPersistentVolumeClaim({ namespace, name: claimName }).then((claim) => claim.spec?.accessModes ?? []);
    accessModesByClaim.set(key, modes);
    // A failed read is not cached: the next run tries again.
    modes.catch(() => accessModesByClaim.delete(key));
  }
  return modes;
}

/** Required node affinity that puts a pod on `nodeName` (matchFields on the node's name, as the scheduler matches it). */
export function pinnedToNode(nodeName: string) {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] }],
      },
    },
  };
}
