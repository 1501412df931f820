/**
 * Every Kubernetes verb and resource the runtime uses, in the agents' namespace. The environment
 * test checks each with a SelfSubjectAccessReview, and the documented Role grants exactly these.
 */
export interface Permission {
  group: "" | "batch";
  resource: string;
  verbs: readonly string[];
  why: string;
}

export const RUNTIME_PERMISSIONS: readonly Permission[] = [
  { group: "batch", resource: "jobs", verbs: ["create", "get", "list", "watch", "patch", "delete"], why: "run, follow, reattach and clean up agent Jobs" },
  { group: "", resource: "pods", verbs: ["get", "list", "watch"], why: "follow agent pods; read the Paperclip pod (self-discovery)" },
  {
    group: "",
    resource: "secrets",
    verbs: ["create", "get", "list", "patch", "delete"],
    why: "the run Secret with the run's credentials, which is also the agent's lock; list: the reaper finds run Secrets left behind",
  },
  { group: "", resource: "events", verbs: ["list"], why: "explain a pod that fails to start, or that Kubernetes refused to create (admission)" },
  { group: "", resource: "persistentvolumeclaims", verbs: ["get"], why: "read the shared claim's access modes: a ReadWriteOnce claim puts agent pods on the Paperclip pod's node" },
];
