import type { ObjectStore } from "../store.ts";
import { isRecord } from "./pod-spec.ts";

export type ConfigKind = "Secret" | "ConfigMap";

/** The key → bytes content of a Secret (base64 `data`, plain `stringData`) or ConfigMap (`data`, base64 `binaryData`). */
export function readConfigData(store: ObjectStore, namespace: string, kind: ConfigKind, name: string): Map<string, Buffer> | undefined {
  const object = store.get(kind === "Secret" ? "secrets" : "configmaps", namespace, name);
  if (!object) return undefined;
  const entries = new Map<string, Buffer>();
  const add = (field: unknown, encoding: "base64" | "utf8") => {
    if (!isRecord(field)) return;
    for (const [key, value] of Object.entries(field)) {
      if (typeof value === "string") entries.set(key, Buffer.from(value, encoding));
    }
  };
  if (kind === "Secret") {
    add(object.data, "base64");
    add(object.stringData, "utf8");
  } else {
    add(object.data, "utf8");
    add(object.binaryData, "base64");
  }
  return entries;
}

/** The API server's NotFound wording, which the kubelet repeats: `secret "x" not found`. */
export function configNotFoundMessage(kind: ConfigKind, name: string): string {
  return `${kind.toLowerCase()} "${name}" not found`;
}
