import type { K8sObject } from "../store.ts";
import { parseQuantity } from "./quantity.ts";

/** The parts of a pod spec the kubelet acts on, read once from stored JSON with checks. */
export interface PodView {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  serviceAccountName: string;
  restartPolicy: "Always" | "OnFailure" | "Never";
  terminationGracePeriodSeconds: number;
  securityContext: RunAs;
  initContainers: ContainerView[];
  containers: ContainerView[];
  volumes: VolumeView[];
}

export interface RunAs {
  runAsUser?: number;
  runAsGroup?: number;
}

export interface KeyRef {
  name: string;
  key: string;
  optional: boolean;
}

export interface EnvVarView {
  name: string;
  value?: string;
  secretKeyRef?: KeyRef;
  configMapKeyRef?: KeyRef;
  fieldPath?: string;
}

export interface EnvFromView {
  prefix: string;
  source: "Secret" | "ConfigMap";
  name: string;
  optional: boolean;
}

export interface VolumeMountView {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly: boolean;
}

export interface ContainerPortView {
  name?: string;
  containerPort: number;
}

export type ProbeAction =
  | { kind: "exec"; command: string[] }
  | { kind: "httpGet"; scheme: "HTTP" | "HTTPS"; host?: string; port: number | string; path: string; headers: { name: string; value: string }[] }
  | { kind: "tcpSocket"; host?: string; port: number | string };

/** A probe with Kubernetes' defaults filled in (period 10 s, timeout 1 s, thresholds 1 and 3). */
export interface ProbeView {
  action: ProbeAction;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface ContainerView {
  name: string;
  image: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  command?: string[];
  args?: string[];
  workingDir?: string;
  env: EnvVarView[];
  envFrom: EnvFromView[];
  volumeMounts: VolumeMountView[];
  securityContext: RunAs;
  memoryLimitBytes?: number;
  terminationMessagePath: string;
  terminationMessagePolicy: "File" | "FallbackToLogsOnError";
  ports: ContainerPortView[];
  readinessProbe?: ProbeView;
  livenessProbe?: ProbeView;
  startupProbe?: ProbeView;
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export type VolumeSource =
  | { kind: "emptyDir" }
  | { kind: "secret" | "configMap"; name: string; items?: KeyToPath[]; defaultMode: number; optional: boolean }
  | { kind: "persistentVolumeClaim"; claimName: string; readOnly: boolean }
  | { kind: "hostPath"; path: string }
  | { kind: "projected"; sources: ProjectionSource[]; defaultMode: number };

/** One source of a `projected` volume, as the ServiceAccount admission writes them (and users may). */
export type ProjectionSource =
  | { kind: "secret" | "configMap"; name: string; items?: KeyToPath[]; optional: boolean }
  | { kind: "downwardAPI"; items: { path: string; fieldPath: string; mode?: number }[] }
  | { kind: "serviceAccountToken"; path: string; expirationSeconds: number };

export interface VolumeView {
  name: string;
  source: VolumeSource;
}

export class PodSpecError extends Error {}

type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function record(value: unknown, where: string): Json {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new PodSpecError(`${where}: must be an object`);
  return value;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PodSpecError(`${where}: must be a list`);
  return value;
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new PodSpecError(`${where}: must be a string`);
  return value;
}

function requiredString(value: unknown, where: string): string {
  const text = optionalString(value, where);
  if (text === undefined || text === "") throw new PodSpecError(`${where}: Required value`);
  return text;
}

function optionalInteger(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new PodSpecError(`${where}: must be an integer`);
  return value;
}

function optionalStrings(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return list(value, where).map((item, i) => requiredStringAllowEmpty(item, `${where}[${i}]`));
}

function requiredStringAllowEmpty(value: unknown, where: string): string {
  if (typeof value !== "string") throw new PodSpecError(`${where}: must be a string`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T | undefined, where: string): T | undefined {
  if (value === undefined || value === null) return fallback;
  const found = allowed.find((option) => option === value);
  if (found === undefined) throw new PodSpecError(`${where}: Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(", ")}`);
  return found;
}

function readRunAs(value: unknown, where: string): RunAs {
  const context = record(value, where);
  return {
    runAsUser: optionalInteger(context.runAsUser, `${where}.runAsUser`),
    runAsGroup: optionalInteger(context.runAsGroup, `${where}.runAsGroup`),
  };
}

function readKeyRef(value: unknown, where: string): KeyRef | undefined {
  if (value === undefined || value === null) return undefined;
  const ref = record(value, where);
  return {
    name: requiredString(ref.name, `${where}.name`),
    key: requiredString(ref.key, `${where}.key`),
    optional: ref.optional === true,
  };
}

function readEnvVar(value: unknown, where: string): EnvVarView {
  const env = record(value, where);
  const from = record(env.valueFrom, `${where}.valueFrom`);
  const fieldRef = from.fieldRef === undefined ? undefined : record(from.fieldRef, `${where}.valueFrom.fieldRef`);
  return {
    name: requiredString(env.name, `${where}.name`),
    value: optionalString(env.value, `${where}.value`),
    secretKeyRef: readKeyRef(from.secretKeyRef, `${where}.valueFrom.secretKeyRef`),
    configMapKeyRef: readKeyRef(from.configMapKeyRef, `${where}.valueFrom.configMapKeyRef`),
    fieldPath: fieldRef === undefined ? undefined : requiredString(fieldRef.fieldPath, `${where}.valueFrom.fieldRef.fieldPath`),
  };
}

function readEnvFrom(value: unknown, where: string): EnvFromView {
  const entry = record(value, where);
  const prefix = optionalString(entry.prefix, `${where}.prefix`) ?? "";
  const sourceKey = entry.secretRef !== undefined ? "secretRef" : entry.configMapRef !== undefined ? "configMapRef" : undefined;
  if (sourceKey === undefined) throw new PodSpecError(`${where}: must specify one of: \`configMapRef\` or \`secretRef\``);
  const ref = record(entry[sourceKey], `${where}.${sourceKey}`);
  return {
    prefix,
    source: sourceKey === "secretRef" ? "Secret" : "ConfigMap",
    name: requiredString(ref.name, `${where}.${sourceKey}.name`),
    optional: ref.optional === true,
  };
}

function readMemoryLimit(resources: unknown, where: string): number | undefined {
  const limits = record(record(resources, where).limits, `${where}.limits`);
  const memory = limits.memory;
  if (memory === undefined || memory === null) return undefined;
  if (typeof memory !== "string" && typeof memory !== "number") throw new PodSpecError(`${where}.limits.memory: must be a quantity`);
  try {
    return Math.ceil(parseQuantity(String(memory)));
  } catch (error) {
    throw new PodSpecError(`${where}.limits.memory: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readPort(value: unknown, where: string): number | string {
  if (typeof value === "number" && Number.isInteger(value) && value > 0 && value < 65536) return value;
  if (typeof value === "string" && value !== "") return /^\d+$/.test(value) ? Number(value) : value;
  throw new PodSpecError(`${where}: must be a port number or a port name`);
}

function positiveOr(value: unknown, fallback: number, where: string, minimum = 1): number {
  const number = optionalInteger(value, where) ?? fallback;
  if (number < minimum) throw new PodSpecError(`${where}: must be greater than or equal to ${minimum}`);
  return number;
}

function readProbe(value: unknown, where: string): ProbeView | undefined {
  if (value === undefined || value === null) return undefined;
  const probe = record(value, where);
  let action: ProbeAction;
  if (probe.exec !== undefined) {
    const command = optionalStrings(record(probe.exec, `${where}.exec`).command, `${where}.exec.command`) ?? [];
    if (command.length === 0) throw new PodSpecError(`${where}.exec.command: Required value`);
    action = { kind: "exec", command };
  } else if (probe.httpGet !== undefined) {
    const get = record(probe.httpGet, `${where}.httpGet`);
    action = {
      kind: "httpGet",
      scheme: oneOf(get.scheme, ["HTTP", "HTTPS"], "HTTP", `${where}.httpGet.scheme`) ?? "HTTP",
      host: optionalString(get.host, `${where}.httpGet.host`) || undefined,
      port: readPort(get.port, `${where}.httpGet.port`),
      path: optionalString(get.path, `${where}.httpGet.path`) || "/",
      headers: list(get.httpHeaders, `${where}.httpGet.httpHeaders`).map((item, i) => {
        const header = record(item, `${where}.httpGet.httpHeaders[${i}]`);
        return { name: requiredString(header.name, `${where}.httpGet.httpHeaders[${i}].name`), value: optionalString(header.value, `${where}.httpGet.httpHeaders[${i}].value`) ?? "" };
      }),
    };
  } else if (probe.tcpSocket !== undefined) {
    const socket = record(probe.tcpSocket, `${where}.tcpSocket`);
    action = { kind: "tcpSocket", host: optionalString(socket.host, `${where}.tcpSocket.host`) || undefined, port: readPort(socket.port, `${where}.tcpSocket.port`) };
  } else {
    throw new PodSpecError(`${where}: probe handler not supported by the sim (supported: exec, httpGet, tcpSocket)`);
  }
  return {
    action,
    initialDelaySeconds: positiveOr(probe.initialDelaySeconds, 0, `${where}.initialDelaySeconds`, 0),
    periodSeconds: positiveOr(probe.periodSeconds, 10, `${where}.periodSeconds`),
    timeoutSeconds: positiveOr(probe.timeoutSeconds, 1, `${where}.timeoutSeconds`),
    successThreshold: positiveOr(probe.successThreshold, 1, `${where}.successThreshold`),
    failureThreshold: positiveOr(probe.failureThreshold, 3, `${where}.failureThreshold`),
  };
}

function readContainer(value: unknown, where: string): ContainerView {
  const container = record(value, where);
  return {
    name: requiredString(container.name, `${where}.name`),
    image: requiredString(container.image, `${where}.image`),
    imagePullPolicy: oneOf(container.imagePullPolicy, ["Always", "IfNotPresent", "Never"], undefined, `${where}.imagePullPolicy`),
    command: optionalStrings(container.command, `${where}.command`),
    args: optionalStrings(container.args, `${where}.args`),
    workingDir: optionalString(container.workingDir, `${where}.workingDir`) || undefined,
    env: list(container.env, `${where}.env`).map((item, i) => readEnvVar(item, `${where}.env[${i}]`)),
    envFrom: list(container.envFrom, `${where}.envFrom`).map((item, i) => readEnvFrom(item, `${where}.envFrom[${i}]`)),
    volumeMounts: list(container.volumeMounts, `${where}.volumeMounts`).map((item, i) => {
      const mount = record(item, `${where}.volumeMounts[${i}]`);
      return {
        name: requiredString(mount.name, `${where}.volumeMounts[${i}].name`),
        mountPath: requiredString(mount.mountPath, `${where}.volumeMounts[${i}].mountPath`),
        subPath: optionalString(mount.subPath, `${where}.volumeMounts[${i}].subPath`) || undefined,
        readOnly: mount.readOnly === true,
      };
    }),
    securityContext: readRunAs(container.securityContext, `${where}.securityContext`),
    memoryLimitBytes: readMemoryLimit(container.resources, `${where}.resources`),
    terminationMessagePath: optionalString(container.terminationMessagePath, `${where}.terminationMessagePath`) || "/dev/termination-log",
    terminationMessagePolicy:
      oneOf(container.terminationMessagePolicy, ["File", "FallbackToLogsOnError"], "File", `${where}.terminationMessagePolicy`) ?? "File",
    ports: list(container.ports, `${where}.ports`).map((item, i) => {
      const port = record(item, `${where}.ports[${i}]`);
      const containerPort = readPort(port.containerPort, `${where}.ports[${i}].containerPort`);
      if (typeof containerPort !== "number") throw new PodSpecError(`${where}.ports[${i}].containerPort: must be a port number`);
      return { name: optionalString(port.name, `${where}.ports[${i}].name`) || undefined, containerPort };
    }),
    readinessProbe: readProbe(container.readinessProbe, `${where}.readinessProbe`),
    livenessProbe: readProbe(container.livenessProbe, `${where}.livenessProbe`),
    startupProbe: readProbe(container.startupProbe, `${where}.startupProbe`),
  };
}

function readKeyToPaths(value: unknown, where: string): KeyToPath[] | undefined {
  if (value === undefined || value === null) return undefined;
  return list(value, where).map((item, i) => {
    const entry = record(item, `${where}[${i}]`);
    return {
      key: requiredString(entry.key, `${where}[${i}].key`),
      path: requiredString(entry.path, `${where}[${i}].path`),
      mode: optionalInteger(entry.mode, `${where}[${i}].mode`),
    };
  });
}

const DEFAULT_PROJECTION_MODE = 0o644;

function readProjection(value: unknown, where: string): ProjectionSource {
  const source = record(value, where);
  if (source.secret !== undefined || source.configMap !== undefined) {
    const kind = source.secret !== undefined ? "secret" : "configMap";
    const config = record(source[kind], `${where}.${kind}`);
    return {
      kind,
      name: requiredString(config.name, `${where}.${kind}.name`),
      items: readKeyToPaths(config.items, `${where}.${kind}.items`),
      optional: config.optional === true,
    };
  }
  if (source.downwardAPI !== undefined) {
    const items = list(record(source.downwardAPI, `${where}.downwardAPI`).items, `${where}.downwardAPI.items`).map((item, i) => {
      const entry = record(item, `${where}.downwardAPI.items[${i}]`);
      return {
        path: requiredString(entry.path, `${where}.downwardAPI.items[${i}].path`),
        fieldPath: requiredString(record(entry.fieldRef, `${where}.downwardAPI.items[${i}].fieldRef`).fieldPath, `${where}.downwardAPI.items[${i}].fieldRef.fieldPath`),
        mode: optionalInteger(entry.mode, `${where}.downwardAPI.items[${i}].mode`),
      };
    });
    return { kind: "downwardAPI", items };
  }
  if (source.serviceAccountToken !== undefined) {
    const token = record(source.serviceAccountToken, `${where}.serviceAccountToken`);
    return {
      kind: "serviceAccountToken",
      path: requiredString(token.path, `${where}.serviceAccountToken.path`),
      expirationSeconds: optionalInteger(token.expirationSeconds, `${where}.serviceAccountToken.expirationSeconds`) ?? 3600,
    };
  }
  throw new PodSpecError(`${where}: projection not supported by the sim (supported: secret, configMap, downwardAPI, serviceAccountToken)`);
}

function readVolume(value: unknown, where: string): VolumeView {
  const volume = record(value, where);
  const name = requiredString(volume.name, `${where}.name`);
  if (volume.emptyDir !== undefined) return { name, source: { kind: "emptyDir" } };
  if (volume.secret !== undefined || volume.configMap !== undefined) {
    const isSecret = volume.secret !== undefined;
    const key = isSecret ? "secret" : "configMap";
    const source = record(volume[key], `${where}.${key}`);
    return {
      name,
      source: {
        kind: key,
        name: requiredString(isSecret ? source.secretName : source.name, `${where}.${key}.${isSecret ? "secretName" : "name"}`),
        items: readKeyToPaths(source.items, `${where}.${key}.items`),
        defaultMode: optionalInteger(source.defaultMode, `${where}.${key}.defaultMode`) ?? DEFAULT_PROJECTION_MODE,
        optional: source.optional === true,
      },
    };
  }
  if (volume.persistentVolumeClaim !== undefined) {
    const claim = record(volume.persistentVolumeClaim, `${where}.persistentVolumeClaim`);
    return {
      name,
      source: {
        kind: "persistentVolumeClaim",
        claimName: requiredString(claim.claimName, `${where}.persistentVolumeClaim.claimName`),
        readOnly: claim.readOnly === true,
      },
    };
  }
  if (volume.hostPath !== undefined) {
    const hostPath = record(volume.hostPath, `${where}.hostPath`);
    return { name, source: { kind: "hostPath", path: requiredString(hostPath.path, `${where}.hostPath.path`) } };
  }
  if (volume.projected !== undefined) {
    const projected = record(volume.projected, `${where}.projected`);
    return {
      name,
      source: {
        kind: "projected",
        sources: list(projected.sources, `${where}.projected.sources`).map((item, i) => readProjection(item, `${where}.projected.sources[${i}]`)),
        defaultMode: optionalInteger(projected.defaultMode, `${where}.projected.defaultMode`) ?? DEFAULT_PROJECTION_MODE,
      },
    };
  }
  throw new PodSpecError(`${where}: volume type not supported by the sim (supported: emptyDir, secret, configMap, persistentVolumeClaim, hostPath, projected)`);
}

/** Reads a stored pod; throws PodSpecError naming the first field that is wrong. */
export function readPod(pod: K8sObject): PodView {
  const spec = record(pod.spec, "spec");
  const containers = list(spec.containers, "spec.containers").map((item, i) => readContainer(item, `spec.containers[${i}]`));
  if (containers.length === 0) throw new PodSpecError("spec.containers: Required value");
  return {
    namespace: pod.metadata.namespace ?? "default",
    name: requiredString(pod.metadata.name, "metadata.name"),
    uid: requiredString(pod.metadata.uid, "metadata.uid"),
    nodeName: requiredString(spec.nodeName, "spec.nodeName"),
    serviceAccountName: optionalString(spec.serviceAccountName, "spec.serviceAccountName") || "default",
    restartPolicy: oneOf(spec.restartPolicy, ["Always", "OnFailure", "Never"], "Always", "spec.restartPolicy") ?? "Always",
    terminationGracePeriodSeconds: optionalInteger(spec.terminationGracePeriodSeconds, "spec.terminationGracePeriodSeconds") ?? 30,
    securityContext: readRunAs(spec.securityContext, "spec.securityContext"),
    initContainers: list(spec.initContainers, "spec.initContainers").map((item, i) => readContainer(item, `spec.initContainers[${i}]`)),
    containers,
    volumes: list(spec.volumes, "spec.volumes").map((item, i) => readVolume(item, `spec.volumes[${i}]`)),
  };
}

/** Reads a string-valued field of a stored object by its fieldRef path, e.g. `metadata.labels['app']`. */
export function readFieldPath(pod: K8sObject, fieldPath: string): string | undefined {
  const mapKey = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (mapKey) {
    const map = record(pod.metadata[mapKey[1] ?? ""], fieldPath);
    const value = map[mapKey[2] ?? ""];
    return typeof value === "string" ? value : "";
  }
  let current: unknown = pod;
  for (const part of fieldPath.split(".")) {
    if (!isRecord(current)) return undefined;
    current = current[part];
  }
  return typeof current === "string" || typeof current === "number" ? String(current) : undefined;
}

