import type { JsonObject } from "../api/json.ts";
import { isObject } from "../api/json.ts";

/** The Pod Security Standards levels (`pod-security.kubernetes.io/<mode>: <level>`). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";
export const POD_SECURITY_LEVELS: readonly PodSecurityLevel[] = ["privileged", "baseline", "restricted"];

/** One failed check: its short name and what exactly is wrong, as the admission plugin words them. */
export interface Violation {
  reason: string;
  detail: string;
}

interface ContainerFacts {
  name: string;
  securityContext: JsonObject;
  ports: JsonObject[];
}

interface PodFacts {
  spec: JsonObject;
  securityContext: JsonObject;
  containers: ContainerFacts[];
}

const DEFAULT_CAPABILITIES = new Set([
  "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
]);
const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

const objectOr = (value: unknown): JsonObject => (isObject(value) ? value : {});
const arrayOf = (value: unknown): JsonObject[] => (Array.isArray(value) ? value.filter(isObject) : []);
const quoted = (names: readonly string[]) => names.map((name) => `"${name}"`).join(", ");
/** `container "a"` / `containers "a", "b"`, as the plugin names the culprits. */
const these = (singular: string, names: readonly string[]) => `${names.length === 1 ? singular : `${singular}s`} ${quoted(names)}`;

function podFacts(pod: JsonObject): PodFacts {
  const spec = objectOr(pod.spec);
  const containers = [...arrayOf(spec.initContainers), ...arrayOf(spec.containers), ...arrayOf(spec.ephemeralContainers)].map((container) => ({
    name: String(container.name ?? ""),
    securityContext: objectOr(container.securityContext),
    ports: arrayOf(container.ports),
  }));
  return { spec, securityContext: objectOr(spec.securityContext), containers };
}

function volumeType(volume: JsonObject): string {
  return Object.keys(volume).find((key) => key !== "name") ?? "";
}

type Check = (pod: PodFacts) => Violation | undefined;

const hostNamespaces: Check = ({ spec }) => {
  const set = ["hostNetwork", "hostPID", "hostIPC"].filter((field) => spec[field] === true);
  return set.length ? { reason: "host namespaces", detail: set.map((field) => `${field}=true`).join(", ") } : undefined;
};

const privileged: Check = ({ containers }) => {
  const bad = containers.filter((c) => c.securityContext.privileged === true).map((c) => c.name);
  return bad.length ? { reason: "privileged", detail: `${these("container", bad)} must not set securityContext.privileged=true` } : undefined;
};

function addedCapabilities(container: ContainerFacts): string[] {
  const add = objectOr(container.securityContext.capabilities).add;
  return Array.isArray(add) ? add.map(String) : [];
}

const baselineCapabilities: Check = ({ containers }) => {
  const bad = containers.filter((c) => addedCapabilities(c).some((cap) => !DEFAULT_CAPABILITIES.has(cap)));
  if (!bad.length) return undefined;
  const capabilities = [...new Set(bad.flatMap((c) => addedCapabilities(c).filter((cap) => !DEFAULT_CAPABILITIES.has(cap))))].sort();
  return {
    reason: "non-default capabilities",
    detail: `${these("container", bad.map((c) => c.name))} must not include ${quoted(capabilities)} in securityContext.capabilities.add`,
  };
};

const hostPathVolumes: Check = ({ spec }) => {
  const bad = arrayOf(spec.volumes).filter((v) => v.hostPath !== undefined).map((v) => String(v.name ?? ""));
  return bad.length ? { reason: "hostPath volumes", detail: these("volume", bad) } : undefined;
};

const hostPorts: Check = ({ containers }) => {
  const bad = containers.filter((c) => c.ports.some((p) => typeof p.hostPort === "number" && p.hostPort !== 0));
  if (!bad.length) return undefined;
  const ports = [...new Set(bad.flatMap((c) => c.ports.map((p) => p.hostPort).filter((port) => typeof port === "number" && port !== 0)))];
  return {
    reason: "hostPort",
    detail: `${these("container", bad.map((c) => c.name))} ${bad.length === 1 ? "uses" : "use"} ${ports.length === 1 ? "hostPort" : "hostPorts"} ${ports.join(", ")}`,
  };
};

const procMount: Check = ({ containers }) => {
  const bad = containers.filter((c) => c.securityContext.procMount !== undefined && c.securityContext.procMount !== "Default").map((c) => c.name);
  return bad.length ? { reason: "procMount", detail: `${these("container", bad)} must not set securityContext.procMount to "Unmasked"` } : undefined;
};

const seccompType = (context: JsonObject) => objectOr(context.seccompProfile).type;

const baselineSeccomp: Check = ({ securityContext, containers }) => {
  const details: string[] = [];
  if (seccompType(securityContext) === "Unconfined") details.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
  const bad = containers.filter((c) => seccompType(c.securityContext) === "Unconfined").map((c) => c.name);
  if (bad.length) details.push(`${these("container", bad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
  return details.length ? { reason: "seccompProfile", detail: details.join("; ") } : undefined;
};

const sysctls: Check = ({ securityContext }) => {
  const bad = arrayOf(securityContext.sysctls).map((s) => String(s.name ?? "")).filter((name) => !SAFE_SYSCTLS.has(name));
  return bad.length ? { reason: "forbidden sysctls", detail: bad.join(", ") } : undefined;
};

const allowPrivilegeEscalation: Check = ({ containers }) => {
  const bad = containers.filter((c) => c.securityContext.allowPrivilegeEscalation !== false).map((c) => c.name);
  return bad.length ? { reason: "allowPrivilegeEscalation != false", detail: `${these("container", bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
};

const restrictedCapabilities: Check = ({ containers }) => {
  const dropsAll = (c: ContainerFacts) => {
    const drop = objectOr(c.securityContext.capabilities).drop;
    return Array.isArray(drop) && drop.includes("ALL");
  };
  const details: string[] = [];
  const notDropping = containers.filter((c) => !dropsAll(c)).map((c) => c.name);
  if (notDropping.length) details.push(`${these("container", notDropping)} must set securityContext.capabilities.drop=["ALL"]`);
  const adding = containers.filter((c) => addedCapabilities(c).some((cap) => cap !== "NET_BIND_SERVICE"));
  if (adding.length) {
    const capabilities = [...new Set(adding.flatMap((c) => addedCapabilities(c).filter((cap) => cap !== "NET_BIND_SERVICE")))].sort();
    details.push(`${these("container", adding.map((c) => c.name))} must not include ${quoted(capabilities)} in securityContext.capabilities.add`);
  }
  return details.length ? { reason: "unrestricted capabilities", detail: details.join("; ") } : undefined;
};

const restrictedVolumes: Check = ({ spec }) => {
  const bad = arrayOf(spec.volumes).filter((v) => !RESTRICTED_VOLUME_TYPES.has(volumeType(v)));
  if (!bad.length) return undefined;
  const types = [...new Set(bad.map(volumeType))];
  return {
    reason: "restricted volume types",
    detail: `${these("volume", bad.map((v) => String(v.name ?? "")))} ${bad.length === 1 ? "uses" : "use"} restricted volume ${types.length === 1 ? "type" : "types"} ${quoted(types)}`,
  };
};

const runAsNonRoot: Check = ({ securityContext, containers }) => {
  const details: string[] = [];
  if (securityContext.runAsNonRoot === false) details.push("pod must not set securityContext.runAsNonRoot=false");
  const explicitlyFalse = containers.filter((c) => c.securityContext.runAsNonRoot === false).map((c) => c.name);
  if (explicitlyFalse.length) details.push(`${these("container", explicitlyFalse)} must not set securityContext.runAsNonRoot=false`);
  if (securityContext.runAsNonRoot !== true) {
    const unset = containers.filter((c) => c.securityContext.runAsNonRoot === undefined).map((c) => c.name);
    if (unset.length) details.push(`pod or ${these("container", unset)} must set securityContext.runAsNonRoot=true`);
  }
  return details.length ? { reason: "runAsNonRoot != true", detail: details.join("; ") } : undefined;
};

const runAsUser: Check = ({ securityContext, containers }) => {
  const details: string[] = [];
  if (securityContext.runAsUser === 0) details.push("pod must not set runAsUser=0");
  const bad = containers.filter((c) => c.securityContext.runAsUser === 0).map((c) => c.name);
  if (bad.length) details.push(`${these("container", bad)} must not set runAsUser=0`);
  return details.length ? { reason: "runAsUser=0", detail: details.join("; ") } : undefined;
};

const restrictedSeccomp: Check = ({ securityContext, containers }) => {
  const allowed = (type: unknown) => type === "RuntimeDefault" || type === "Localhost";
  const details: string[] = [];
  const podType = seccompType(securityContext);
  if (podType !== undefined && !allowed(podType)) details.push(`pod must not set securityContext.seccompProfile.type to "${String(podType)}"`);
  const badExplicit = containers.filter((c) => seccompType(c.securityContext) !== undefined && !allowed(seccompType(c.securityContext)));
  for (const type of new Set(badExplicit.map((c) => String(seccompType(c.securityContext))))) {
    const names = badExplicit.filter((c) => String(seccompType(c.securityContext)) === type).map((c) => c.name);
    details.push(`${these("container", names)} must not set securityContext.seccompProfile.type to "${type}"`);
  }
  if (!allowed(podType)) {
    const unset = containers.filter((c) => seccompType(c.securityContext) === undefined).map((c) => c.name);
    if (unset.length) details.push(`pod or ${these("container", unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
  }
  return details.length ? { reason: "seccompProfile", detail: details.join("; ") } : undefined;
};

/** Baseline checks, then the restricted ones; a restricted check replaces its baseline namesake. */
const BASELINE: Check[] = [baselineCapabilities, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount, baselineSeccomp, sysctls];
const RESTRICTED: Check[] = [
  hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount, sysctls,
  allowPrivilegeEscalation, restrictedCapabilities, restrictedVolumes, runAsNonRoot, runAsUser, restrictedSeccomp,
];

/** Every rule of `level` the pod (or pod template: anything with a pod `spec`) breaks, in the plugin's order. */
export function podSecurityViolations(level: PodSecurityLevel, pod: JsonObject): Violation[] {
  const checks = level === "restricted" ? RESTRICTED : level === "baseline" ? BASELINE : [];
  const facts = podFacts(pod);
  return checks.map((check) => check(facts)).filter((violation): violation is Violation => violation !== undefined);
}

/** `allowPrivilegeEscalation != false (container "c" must set ...), ...` */
export function describeViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.reason} (${v.detail})`).join(", ");
}
