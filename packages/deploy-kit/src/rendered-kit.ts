/**
 * The deployment kit as an operator gets it: `kubectl kustomize deploy/overlays/<overlay>` (the real kubectl),
 * parsed into objects, with small accessors that keep the tests free of unchecked casts.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const repoRoot = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `keys` below `value` (array items by index), or undefined. */
export function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof key === "number") current = Array.isArray(current) ? current[key] : undefined;
    else current = isRecord(current) ? current[key] : undefined;
  }
  return current;
}

/** The list at `keys`, or an error naming where a list was expected. */
export function listAt(value: unknown, ...keys: (string | number)[]): unknown[] {
  const found = at(value, ...keys);
  if (!Array.isArray(found)) throw new Error(`expected a list at ${keys.join(".")}, found ${JSON.stringify(found)}`);
  return found;
}

/** The text at `keys`, or an error naming where text was expected. */
export function textAt(value: unknown, ...keys: (string | number)[]): string {
  const found = at(value, ...keys);
  if (typeof found !== "string") throw new Error(`expected text at ${keys.join(".")}, found ${JSON.stringify(found)}`);
  return found;
}

/** The object at `keys`, or an error naming where an object was expected. */
export function recordAt(value: unknown, ...keys: (string | number)[]): JsonRecord {
  const found = at(value, ...keys);
  if (!isRecord(found)) throw new Error(`expected an object at ${keys.join(".")}, found ${JSON.stringify(found)}`);
  return found;
}

export interface RenderedKit {
  objects: JsonRecord[];
  /** The one object of `kind` (and `name`, when given); an error when there is none or several. */
  one(kind: string, name?: string): JsonRecord;
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Renders a kustomization directory (relative to the repository root, or absolute) with `kubectl kustomize`. */
export async function renderKustomization(dir: string): Promise<RenderedKit> {
  const text = await run("kubectl", ["kustomize", dir]);
  const objects = parseAllDocuments(text).map((document, index) => {
    if (document.errors.length > 0) throw new Error(`document ${index} of ${dir}: ${document.errors[0]?.message}`);
    const object: unknown = document.toJS();
    if (!isRecord(object)) throw new Error(`document ${index} of ${dir} is not an object`);
    return object;
  });
  return {
    objects,
    one(kind, name) {
      const matches = objects.filter((object) => object.kind === kind && (name === undefined || at(object, "metadata", "name") === name));
      if (matches.length !== 1 || matches[0] === undefined) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""} in ${dir}, found ${matches.length}`);
      return matches[0];
    },
  };
}

/** Renders one of the kit's overlays (`deploy/overlays/<overlay>`). */
export function renderKit(overlay: string): Promise<RenderedKit> {
  return renderKustomization(path.join("deploy", "overlays", overlay));
}
