import type { JsonObject } from "./json.ts";
import { isObject } from "./json.ts";
import { ApiError, badRequest } from "./status.ts";
import { applyStrategicMerge } from "./strategic-merge.ts";

export type PatchType = "json" | "merge" | "strategic";

const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  "application/json-patch+json": "json",
  "application/merge-patch+json": "merge",
  "application/strategic-merge-patch+json": "strategic",
};

/** The patch type of a request's Content-Type; 415 for anything else (server-side apply included). */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const type = PATCH_CONTENT_TYPES[mediaType];
  if (!type) {
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_CONTENT_TYPES).join(", ")}`,
    );
  }
  return type;
}

/** A patch that parsed but cannot be applied: 422, as the API server reports failed JSON patch tests. */
function patchFailure(message: string): ApiError {
  return new ApiError(422, "Invalid", message, { causes: [{ reason: "FieldValueInvalid", message, field: "patch" }] });
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw badRequest(`json patch path must start with '/': ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = JsonObject | unknown[];

/** The container holding the last token of `tokens`, walking from `root`. */
function parentOf(root: unknown, tokens: string[], pointer: string): { parent: Container; key: string } {
  let current: unknown = root;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw patchFailure(`doc is missing path: "${pointer}": missing value`);
  }
  const key = tokens[tokens.length - 1];
  if (key === undefined || !(Array.isArray(current) || isObject(current))) {
    throw patchFailure(`doc is missing path: "${pointer}": missing value`);
  }
  return { parent: current, key };
}

function arrayIndex(array: unknown[], key: string, pointer: string, allowEnd: boolean): number {
  if (allowEnd && key === "-") return array.length;
  if (!/^(0|[1-9]\d*)$/.test(key)) throw patchFailure(`invalid array index "${key}" in "${pointer}"`);
  const index = Number(key);
  if (index > array.length || (!allowEnd && index === array.length)) {
    throw patchFailure(`array index out of bounds in "${pointer}"`);
  }
  return index;
}

function read(root: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return root;
  const { parent, key } = parentOf(root, tokens, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, key, pointer, false)] : parent[key];
  if (value === undefined) throw patchFailure(`doc is missing path: "${pointer}": missing value`);
  return value;
}

function remove(root: unknown, pointer: string): unknown {
  const { parent, key } = parentOf(root, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, pointer, false), 1)[0];
  if (!Object.hasOwn(parent, key)) throw patchFailure(`doc is missing key: "${pointer}": missing value`);
  const value = parent[key];
  delete parent[key];
  return value;
}

function add(root: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(root, tokens, pointer);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, pointer, !replace);
    parent.splice(index, replace ? 1 : 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, key)) throw patchFailure(`doc is missing key: "${pointer}": missing value`);
    parent[key] = value;
  }
  return root;
}

const deepEqual = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** RFC 6902. */
export function applyJsonPatch(document: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest("json patch must be an array of operations");
  let result = structuredClone(document);
  for (const operation of patch) {
    if (!isObject(operation) || typeof operation.op !== "string" || typeof operation.path !== "string") {
      throw badRequest(`invalid json patch operation: ${JSON.stringify(operation)}`);
    }
    const { op, path } = operation;
    const from = typeof operation.from === "string" ? operation.from : undefined;
    switch (op) {
      case "add":
        result = add(result, path, structuredClone(operation.value), false);
        break;
      case "replace":
        result = add(result, path, structuredClone(operation.value), true);
        break;
      case "remove":
        remove(result, path);
        break;
      case "move": {
        if (from === undefined) throw badRequest(`json patch "move" needs "from"`);
        const value = remove(result, from);
        result = add(result, path, value, false);
        break;
      }
      case "copy":
        if (from === undefined) throw badRequest(`json patch "copy" needs "from"`);
        result = add(result, path, structuredClone(read(result, from)), false);
        break;
      case "test":
        if (!deepEqual(read(result, path), operation.value)) throw patchFailure(`testing value ${path} failed: test failed`);
        break;
      default:
        throw badRequest(`unexpected json patch operation "${op}"`);
    }
  }
  return result;
}

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export function applyMergePatch(document: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(document) ? structuredClone(document) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

export function applyPatch(type: PatchType, document: unknown, patch: unknown): unknown {
  switch (type) {
    case "json":
      return applyJsonPatch(document, patch);
    case "merge":
      if (!isObject(patch)) throw badRequest("merge patch must be a JSON object");
      return applyMergePatch(document, patch);
    case "strategic":
      if (!isObject(patch)) throw badRequest("strategic merge patch must be a JSON object");
      return applyStrategicMerge(document, patch);
  }
}
