import type { JsonObject } from "../api/json.ts";
import { isObject, objectAt, objectsAt, stringAt } from "../api/json.ts";
import { ApiError } from "../api/status.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { randomNameSuffix } from "../store.ts";
import { PROJECTED_TOKEN_SECONDS } from "../auth/service-account-tokens.ts";
import type { PodSecurityLevel } from "./pod-security.ts";
import { POD_SECURITY_LEVELS, describeViolations, podSecurityViolations } from "./pod-security.ts";

/** Where every container finds its service-account credentials. */
export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The ConfigMap the root-CA publisher keeps in every namespace. */
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

function forbidden(name: string, message: string): ApiError {
  return new ApiError(403, "Forbidden", `pods "${name}" is forbidden: ${message}`, { name, group: "", kind: "pods" });
}

/**
 * The ServiceAccount admission plugin: the pod's account (default `default`) must exist, and
 * unless the pod or the account opts out with `automountServiceAccountToken: false`, every
 * container gets the projected `kube-api-access-*` volume (token, ca.crt, namespace).
 */
export function admitServiceAccount(store: ObjectStore, pod: K8sObject): void {
  const spec = objectAt(pod, "spec");
  if (!spec) return;
  const namespace = pod.metadata.namespace ?? "default";
  const accountName = stringAt(spec, "serviceAccountName") || "default";
  spec.serviceAccountName = accountName;
  spec.serviceAccount = accountName;
  const account = store.get("serviceaccounts", namespace, accountName);
  if (!account) {
    throw forbidden(pod.metadata.name ?? "", `error looking up service account ${namespace}/${accountName}: serviceaccount "${accountName}" not found`);
  }
  const automount = typeof spec.automountServiceAccountToken === "boolean" ? spec.automountServiceAccountToken : account.automountServiceAccountToken !== false;
  if (!automount) return;
  const containers = [...objectsAt(spec, "initContainers"), ...objectsAt(spec, "containers")];
  if (containers.every((c) => objectsAt(c, "volumeMounts").some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH))) return;
  const volumeName = `kube-api-access-${randomNameSuffix()}`;
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  volumes.push({
    name: volumeName,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_SECONDS, path: "token" } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  });
  spec.volumes = volumes;
  for (const container of containers) {
    const mounts = objectsAt(container, "volumeMounts");
    if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    container.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
  }
}

interface NamespacePolicy {
  enforce?: { level: PodSecurityLevel; label: string };
  warn?: { level: PodSecurityLevel; label: string };
}

/** The namespace's `pod-security.kubernetes.io/<mode>[-version]` labels; an unknown level counts as restricted, as the plugin does. */
function namespacePolicy(store: ObjectStore, namespace: string): NamespacePolicy {
  const labels = store.get("namespaces", undefined, namespace)?.metadata.labels ?? {};
  const mode = (name: "enforce" | "warn") => {
    const raw = labels[`pod-security.kubernetes.io/${name}`];
    if (raw === undefined) return undefined;
    const level = POD_SECURITY_LEVELS.find((l) => l === raw) ?? "restricted";
    if (level === "privileged") return undefined;
    return { level, label: `${level}:${labels[`pod-security.kubernetes.io/${name}-version`] ?? "latest"}` };
  };
  return { enforce: mode("enforce"), warn: mode("warn") };
}

/** A `Warning` header value (RFC 7234 warn-text is a quoted string). */
function warningHeader(text: string): string {
  return `299 - "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The pod checked against its namespace's Pod Security labels: enforce refuses with 403, warn gives `Warning` headers. */
export function admitPodSecurity(store: ObjectStore, pod: K8sObject): string[] {
  const policy = namespacePolicy(store, pod.metadata.namespace ?? "default");
  if (policy.enforce) {
    const violations = podSecurityViolations(policy.enforce.level, pod);
    if (violations.length) throw forbidden(pod.metadata.name ?? "", `violates PodSecurity "${policy.enforce.label}": ${describeViolations(violations)}`);
  }
  if (!policy.warn) return [];
  const violations = podSecurityViolations(policy.warn.level, pod);
  return violations.length ? [warningHeader(`would violate PodSecurity "${policy.warn.label}": ${describeViolations(violations)}`)] : [];
}

/** Workloads (anything with a pod `spec.template`) are not refused, but get warnings for the enforce and warn levels their template breaks. */
export function podTemplateWarnings(store: ObjectStore, namespace: string, workload: JsonObject): string[] {
  const template = objectAt(objectAt(workload, "spec"), "template");
  if (!template || !isObject(template.spec)) return [];
  const policy = namespacePolicy(store, namespace);
  const warnings: string[] = [];
  for (const mode of [policy.enforce, policy.warn]) {
    if (!mode) continue;
    const violations = podSecurityViolations(mode.level, template);
    const warning = warningHeader(`would violate PodSecurity "${mode.label}": ${describeViolations(violations)}`);
    if (violations.length && !warnings.includes(warning)) warnings.push(warning);
  }
  return warnings;
}
