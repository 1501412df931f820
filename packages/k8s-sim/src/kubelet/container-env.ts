import type { K8sObject, ObjectStore } from "../store.ts";
import { configNotFoundMessage, readConfigData } from "./config-data.ts";
import type { ContainerView, KeyRef } from "./pod-spec.ts";
import { readFieldPath } from "./pod-spec.ts";
import type { ConfigKind } from "./config-data.ts";

/** Why a container cannot be created yet (`CreateContainerConfigError`); the kubelet retries. */
export class ContainerConfigError extends Error {}

export interface EnvContext {
  store: ObjectStore;
  pod: K8sObject;
  podIP: string;
  hostIP: string;
  /** The Service link variables: the lowest layer, which the spec's own variables override and may reference. */
  serviceEnv?: ReadonlyMap<string, string>;
}

const SUPPORTED_FIELD_PATHS = new Set([
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.podIP",
]);

/**
 * Expands `$(NAME)` references as Kubernetes does: defined names are replaced, undefined ones stay
 * as written, and `$$` escapes a literal `$`.
 */
export function expandReferences(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return "$";
    return lookup(name) ?? match;
  });
}

function keyValue(context: EnvContext, kind: ConfigKind, ref: KeyRef): string | undefined {
  const namespace = context.pod.metadata.namespace ?? "default";
  const data = readConfigData(context.store, namespace, kind, ref.name);
  if (!data) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(configNotFoundMessage(kind, ref.name));
  }
  const value = data.get(ref.key);
  if (value === undefined) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kind} ${namespace}/${ref.name}`);
  }
  return value.toString("utf8");
}

function fieldValue(context: EnvContext, fieldPath: string): string {
  if (fieldPath === "status.podIP") return context.podIP;
  if (fieldPath === "status.hostIP") return context.hostIP;
  if (!SUPPORTED_FIELD_PATHS.has(fieldPath) && !/^metadata\.(labels|annotations)\['.*'\]$/.test(fieldPath)) {
    throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
  return readFieldPath(context.pod, fieldPath) ?? "";
}

/**
 * The container's environment as the kubelet builds it: the Service variables, then `envFrom`
 * (later sources win), then `env` in order with `$(VAR)` expansion against what came before.
 * Nothing from the host.
 */
export function resolveContainerEnv(container: ContainerView, context: EnvContext): Map<string, string> {
  const env = new Map<string, string>(context.serviceEnv);
  const namespace = context.pod.metadata.namespace ?? "default";
  for (const source of container.envFrom) {
    const data = readConfigData(context.store, namespace, source.source, source.name);
    if (!data) {
      if (source.optional) continue;
      throw new ContainerConfigError(configNotFoundMessage(source.source, source.name));
    }
    for (const [key, value] of data) env.set(source.prefix + key, value.toString("utf8"));
  }
  for (const variable of container.env) {
    let value: string | undefined;
    if (variable.secretKeyRef) value = keyValue(context, "Secret", variable.secretKeyRef);
    else if (variable.configMapKeyRef) value = keyValue(context, "ConfigMap", variable.configMapKeyRef);
    else if (variable.fieldPath !== undefined) value = fieldValue(context, variable.fieldPath);
    else value = expandReferences(variable.value ?? "", (name) => env.get(name));
    if (value !== undefined) env.set(variable.name, value);
  }
  return env;
}
