import type { JsonObject } from "./json.ts";
import { isObject } from "./json.ts";

/**
 * Strategic merge patch (what kubectl sends for `apply`, `set image`, `set env`, `label`, …) for
 * the built-in types the sim serves. Maps merge as in a JSON merge patch; the lists Kubernetes
 * declares with a patch merge key merge element by element on that key, instead of being
 * replaced; `finalizers` merge as a set. Directives: `$patch: replace | delete` (on a map or in a
 * list), `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
 * The merge keys are known by field name, which is unambiguous across the kinds served here
 * (`ports` is keyed by `containerPort` in containers and by `port` in Services).
 */

const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  imagePullSecrets: "name",
  hostAliases: "ip",
  ownerReferences: "uid",
  conditions: "type",
  topologySpreadConstraints: "topologyKey",
  resourceClaims: "name",
};
const SET_LISTS = new Set(["finalizers"]);

function mergeKeyOf(field: string, original: unknown[], patch: unknown[]): string | undefined {
  if (field === "ports") {
    return [...original, ...patch].some((item) => isObject(item) && item.containerPort !== undefined) ? "containerPort" : "port";
  }
  return MERGE_KEYS[field];
}

/** Applies a strategic merge patch to a document; undefined means the patch deleted it (`$patch: delete`). */
export function applyStrategicMerge(document: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === "delete") return undefined;
  if (directive === "replace") return applyStrategicMerge({}, { ...patch, $patch: undefined });
  const result: JsonObject = isObject(document) ? structuredClone(document) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$") || value === undefined) continue;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, Array.isArray(result[key]) ? result[key] : [], value);
    } else if (isObject(value)) {
      const merged = applyStrategicMerge(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    const removeFrom = /^\$deleteFromPrimitiveList\/(.+)$/.exec(key)?.[1];
    if (removeFrom && Array.isArray(value) && Array.isArray(result[removeFrom])) {
      result[removeFrom] = result[removeFrom].filter((item) => !value.includes(item));
    }
    const ordered = /^\$setElementOrder\/(.+)$/.exec(key)?.[1];
    if (ordered && Array.isArray(value) && Array.isArray(result[ordered])) result[ordered] = reorder(ordered, result[ordered], value);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const retained = new Set(patch.$retainKeys.map(String));
    for (const key of Object.keys(result)) if (!retained.has(key)) delete result[key];
  }
  return result;
}

function mergeList(field: string, original: unknown[], patch: unknown[]): unknown[] {
  const key = mergeKeyOf(field, original, patch);
  if (key === undefined) {
    if (SET_LISTS.has(field)) return [...original, ...patch.filter((item) => !original.includes(item))];
    return patch.map((item) => applyStrategicMerge(undefined, item));
  }
  if (patch.some((item) => isObject(item) && item.$patch === "replace")) {
    return patch.filter((item) => !(isObject(item) && item.$patch === "replace")).map((item) => applyStrategicMerge(undefined, item));
  }
  const result = structuredClone(original);
  for (const item of patch) {
    const index = isObject(item) ? result.findIndex((existing) => isObject(existing) && existing[key] === item[key]) : -1;
    const merged = applyStrategicMerge(index >= 0 ? result[index] : undefined, item);
    if (index >= 0 && merged === undefined) result.splice(index, 1);
    else if (index >= 0) result[index] = merged;
    else if (merged !== undefined) result.push(merged);
  }
  return result;
}

/** `$setElementOrder`: the listed elements in the given order, any others after them as they were. */
function reorder(field: string, items: unknown[], order: unknown[]): unknown[] {
  const key = mergeKeyOf(field, items, order);
  const identity = (item: unknown) => (key !== undefined && isObject(item) ? item[key] : item);
  const rank = new Map(order.map((item, index) => [identity(item), index]));
  const listed = items.filter((item) => rank.has(identity(item))).sort((a, b) => (rank.get(identity(a)) ?? 0) - (rank.get(identity(b)) ?? 0));
  return [...listed, ...items.filter((item) => !rank.has(identity(item)))];
}
