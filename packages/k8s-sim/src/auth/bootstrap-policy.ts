import type { K8sObject } from "../store.ts";

/**
 * The default ClusterRoles and ClusterRoleBindings every cluster starts with that matter here:
 * cluster-admin for `system:masters`, and what every authenticated user may do (discovery,
 * health and version, asking what it may do itself).
 */
const BOOTSTRAP_METADATA = {
  labels: { "kubernetes.io/bootstrapping": "rbac-defaults" },
  annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
};

function clusterRole(name: string, rules: Record<string, string[]>[]): K8sObject {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, ...structuredClone(BOOTSTRAP_METADATA) }, rules };
}

function clusterRoleBinding(name: string, groups: string[]): K8sObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name, ...structuredClone(BOOTSTRAP_METADATA) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: groups.map((group) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group })),
  };
}

const HEALTH_AND_VERSION = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

export function bootstrapClusterRoles(): K8sObject[] {
  return [
    clusterRole("cluster-admin", [
      { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      { nonResourceURLs: ["*"], verbs: ["*"] },
    ]),
    clusterRole("system:discovery", [
      { nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", ...HEALTH_AND_VERSION, "/openapi", "/openapi/*"], verbs: ["get"] },
    ]),
    clusterRole("system:basic-user", [
      { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], verbs: ["create"] },
      { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
    ]),
    clusterRole("system:public-info-viewer", [{ nonResourceURLs: HEALTH_AND_VERSION, verbs: ["get"] }]),
  ];
}

export function bootstrapClusterRoleBindings(): K8sObject[] {
  return [
    clusterRoleBinding("cluster-admin", ["system:masters"]),
    clusterRoleBinding("system:discovery", ["system:authenticated"]),
    clusterRoleBinding("system:basic-user", ["system:authenticated"]),
    clusterRoleBinding("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
  ];
}
