/**
 * A published package's `package.json` as consumers must see it, written around `npm pack`
 * (`prepack`: `strip`, `postpack`: `restore`, run in the package directory).
 *
 * In the repo, every export carries a `source` condition (`./src/*.ts`, so sources run on Node 24
 * without a build) and the runtime exports `./testing` (the conformance harness, which needs the
 * private simulated cluster, vitest and the repo's fixtures). Neither ships: the tarball holds only
 * `dist/`, so `strip` removes every `source` condition and every export whose targets are not in
 * `files`, leaving a manifest whose every path exists in the tarball. The original is kept next
 * to it and put back by `restore` (and by the next `strip`, should a pack have died in between).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

const MANIFEST = "package.json";
const ORIGINAL = "package.json.repo";
/** Exports that stay in the repo (see the module comment). */
const REPO_ONLY_EXPORTS = new Set(["./testing"]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An export target without its `source` condition (conditions nest). */
function withoutSource(target: Json): Json {
  if (!isObject(target)) return target;
  return Object.fromEntries(Object.entries(target).filter(([condition]) => condition !== "source").map(([condition, value]) => [condition, withoutSource(value)]));
}

/** The manifest `npm pack` should see: no `source` condition, no repo-only export. */
export function publishedManifest(manifest: { [key: string]: Json }): { [key: string]: Json } {
  const exportsField = manifest.exports;
  if (!isObject(exportsField)) throw new Error(`${MANIFEST} has no "exports" object`);
  const exportsPublished = Object.fromEntries(
    Object.entries(exportsField)
      .filter(([subpath]) => !REPO_ONLY_EXPORTS.has(subpath))
      .map(([subpath, target]) => [subpath, withoutSource(target)]),
  );
  return { ...manifest, exports: exportsPublished };
}

function restore(dir: string): boolean {
  const original = path.join(dir, ORIGINAL);
  if (!existsSync(original)) return false;
  renameSync(original, path.join(dir, MANIFEST));
  return true;
}

function strip(dir: string): void {
  restore(dir);
  const manifestPath = path.join(dir, MANIFEST);
  const text = readFileSync(manifestPath, "utf8");
  const manifest: Json = JSON.parse(text);
  if (!isObject(manifest)) throw new Error(`${manifestPath} is not a JSON object`);
  writeFileSync(path.join(dir, ORIGINAL), text);
  writeFileSync(manifestPath, `${JSON.stringify(publishedManifest(manifest), null, 2)}\n`);
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename;
if (isMain) {
  const [command] = process.argv.slice(2);
  if (command === "strip") strip(process.cwd());
  else if (command === "restore") restore(process.cwd());
  else {
    console.error("usage: node scripts/publish-manifest.ts strip|restore (in a package directory)");
    process.exitCode = 2;
  }
}
