/** One REST resource the sim serves, with what discovery says about it. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** Plural name: the store key and the URL segment. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** Subresources by name (`status`, `log`): what discovery lists as `<plural>/<name>`. */
  subresources: { name: string; kind: string; verbs: string[]; group?: string; version?: string }[];
  categories?: string[];
}

const READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const STATUS = { name: "status", verbs: ["get", "patch", "update"] };
/** `kubectl scale`: an autoscaling/v1 Scale view of `spec.replicas`. */
const SCALE = { name: "scale", kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] };

export const RESOURCES: readonly ResourceInfo[] = [
  {
    group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace", namespaced: false,
    shortNames: ["ns"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: [{ ...STATUS, kind: "Namespace" }],
  },
  {
    group: "", version: "v1", kind: "Node", plural: "nodes", singular: "node", namespaced: false,
    shortNames: ["no"], verbs: READ_WRITE, subresources: [{ ...STATUS, kind: "Node" }],
  },
  {
    group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true,
    shortNames: ["po"], verbs: READ_WRITE, categories: ["all"],
    subresources: [{ ...STATUS, kind: "Pod" }, { name: "log", kind: "Pod", verbs: ["get"] }],
  },
  {
    group: "", version: "v1", kind: "Secret", plural: "secrets", singular: "secret", namespaced: true,
    shortNames: [], verbs: READ_WRITE, subresources: [],
  },
  {
    group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", singular: "configmap", namespaced: true,
    shortNames: ["cm"], verbs: READ_WRITE, subresources: [],
  },
  {
    group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", singular: "serviceaccount", namespaced: true,
    shortNames: ["sa"], verbs: READ_WRITE, subresources: [{ name: "token", kind: "TokenRequest", verbs: ["create"] }],
  },
  ...(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"] as const).map((kind) => ({
    group: "rbac.authorization.k8s.io", version: "v1", kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(),
    namespaced: !kind.startsWith("Cluster"), shortNames: [], verbs: READ_WRITE, subresources: [],
  })),
  {
    group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true,
    shortNames: ["ev"], verbs: READ_WRITE, subresources: [],
  },
  {
    group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims",
    singular: "persistentvolumeclaim", namespaced: true, shortNames: ["pvc"], verbs: READ_WRITE,
    subresources: [{ ...STATUS, kind: "PersistentVolumeClaim" }],
  },
  {
    group: "batch", version: "v1", kind: "Job", plural: "jobs", singular: "job", namespaced: true,
    shortNames: [], verbs: READ_WRITE, categories: ["all"], subresources: [{ ...STATUS, kind: "Job" }],
  },
  {
    group: "", version: "v1", kind: "Service", plural: "services", singular: "service", namespaced: true,
    shortNames: ["svc"], verbs: READ_WRITE, categories: ["all"], subresources: [{ ...STATUS, kind: "Service" }],
  },
  {
    group: "apps", version: "v1", kind: "Deployment", plural: "deployments", singular: "deployment", namespaced: true,
    shortNames: ["deploy"], verbs: READ_WRITE, categories: ["all"], subresources: [{ ...STATUS, kind: "Deployment" }, SCALE],
  },
  {
    group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", singular: "replicaset", namespaced: true,
    shortNames: ["rs"], verbs: READ_WRITE, categories: ["all"], subresources: [{ ...STATUS, kind: "ReplicaSet" }, SCALE],
  },
  {
    group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", singular: "endpointslice",
    namespaced: true, shortNames: [], verbs: READ_WRITE, subresources: [],
  },
  {
    group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", singular: "networkpolicy",
    namespaced: true, shortNames: ["netpol"], verbs: READ_WRITE, subresources: [],
  },
  {
    group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", singular: "poddisruptionbudget",
    namespaced: true, shortNames: ["pdb"], verbs: READ_WRITE, subresources: [{ ...STATUS, kind: "PodDisruptionBudget" }],
  },
  {
    group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectAccessReview",
    plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", namespaced: false,
    shortNames: [], verbs: ["create"], subresources: [],
  },
  {
    group: "authentication.k8s.io", version: "v1", kind: "SelfSubjectReview",
    plural: "selfsubjectreviews", singular: "selfsubjectreview", namespaced: false,
    shortNames: [], verbs: ["create"], subresources: [],
  },
  {
    group: "authorization.k8s.io", version: "v1", kind: "SelfSubjectRulesReview",
    plural: "selfsubjectrulesreviews", singular: "selfsubjectrulesreview", namespaced: false,
    shortNames: [], verbs: ["create"], subresources: [],
  },
];

/** The resources the store holds (everything but review-style virtual resources). */
export const STORED_RESOURCES: readonly ResourceInfo[] = RESOURCES.filter((r) => r.verbs.includes("get"));

export function apiVersionOf(resource: ResourceInfo): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/** `jobs.batch` / `pods`: how error messages name a resource. */
export function qualifiedResource(resource: ResourceInfo): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

/** `Job.batch` / `Pod`: how validation messages name a kind. */
export function qualifiedKind(resource: ResourceInfo): string {
  return resource.group ? `${resource.kind}.${resource.group}` : resource.kind;
}

export function findResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByPlural(plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.plural === plural);
}

/** The resource an ownerReference (apiVersion + kind) points to. */
export function resourceForKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

/** Group versions served, in discovery order. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}
