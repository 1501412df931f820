/**
 * The rules of the `restricted` Pod Security Standard (Kubernetes' pod-security admission, "latest") that a pod
 * spec can break, as messages naming the rule; empty when the spec passes.
 */
import { at, isRecord } from "./rendered-kit.ts";

const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

export function restrictedViolations(podSpec: unknown): string[] {
  const violations: string[] = [];
  for (const hostField of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (at(podSpec, hostField) === true) violations.push(`${hostField}=true`);
  }
  const volumes = at(podSpec, "volumes");
  for (const volume of Array.isArray(volumes) ? volumes : []) {
    const types = isRecord(volume) ? Object.keys(volume).filter((key) => key !== "name") : [];
    for (const type of types) if (!RESTRICTED_VOLUME_TYPES.has(type)) violations.push(`volume type ${type}`);
  }
  const podNonRoot = at(podSpec, "securityContext", "runAsNonRoot") === true;
  const podSeccomp = at(podSpec, "securityContext", "seccompProfile", "type");
  if (at(podSpec, "securityContext", "runAsUser") === 0) violations.push("pod runAsUser=0");
  const containers = [at(podSpec, "initContainers"), at(podSpec, "containers")].flatMap((list) => (Array.isArray(list) ? list : []));
  for (const container of containers) {
    const name = String(at(container, "name"));
    const context = at(container, "securityContext");
    if (at(context, "privileged") === true) violations.push(`${name}: privileged`);
    if (at(context, "allowPrivilegeEscalation") !== false) violations.push(`${name}: allowPrivilegeEscalation != false`);
    const drop = at(context, "capabilities", "drop");
    if (!Array.isArray(drop) || !drop.includes("ALL")) violations.push(`${name}: capabilities.drop does not include ALL`);
    const add = at(context, "capabilities", "add");
    for (const capability of Array.isArray(add) ? add : []) {
      if (capability !== "NET_BIND_SERVICE") violations.push(`${name}: adds capability ${String(capability)}`);
    }
    const nonRoot = at(context, "runAsNonRoot");
    if (nonRoot === false || (nonRoot !== true && !podNonRoot)) violations.push(`${name}: runAsNonRoot != true`);
    if (at(context, "runAsUser") === 0) violations.push(`${name}: runAsUser=0`);
    const seccomp = at(context, "seccompProfile", "type") ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") violations.push(`${name}: seccompProfile is not RuntimeDefault or Localhost`);
    const ports = at(container, "ports");
    for (const port of Array.isArray(ports) ? ports : []) {
      if (at(port, "hostPort") !== undefined && at(port, "hostPort") !== 0) violations.push(`${name}: hostPort`);
    }
  }
  return violations;
}
