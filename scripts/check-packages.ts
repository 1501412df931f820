/**
 * Checks what each published package would ship (run after `npm run build`): packs it with `npm pack` (so the
 * pack-time manifest of scripts/publish-manifest.ts applies), then lints the tarball's contents with publint
 * (strict) and its types with @arethetypeswrong/cli (profile esm-only: the packages are ESM, and Paperclip loads
 * `./ui-parser` as CommonJS text), and checks what those two do not: every path the manifest names ships, every
 * export has types, no source map ships. Prints every problem and exits non-zero when there is one.
 * Usage: node scripts/check-packages.ts [package directory …] (default: the three published packages).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

export const PUBLISHED_PACKAGE_DIRS = ["packages/k8s-runtime", "packages/adapter-claude", "packages/adapter-opencode", "packages/adapter-codex", "packages/adapter-gemini"];

const repoRoot = path.resolve(import.meta.dirname, "..");

function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every file path an export target names, with the conditions leading to it. */
function exportTargets(target: Json, conditions: string[] = []): { conditions: string[]; file: string }[] {
  if (typeof target === "string") return [{ conditions, file: target }];
  if (Array.isArray(target)) return target.flatMap((item) => exportTargets(item, conditions));
  if (isObject(target)) return Object.entries(target).flatMap(([condition, value]) => exportTargets(value, [...conditions, condition]));
  return [];
}

/**
 * What publint and attw leave unchecked: every path the published manifest names exists in the tarball (under
 * any condition, `source` included), every export has types, and no source map ships (ours would point at src/).
 */
async function manifestProblems(pkgDir: string): Promise<string[]> {
  const manifest: Json = JSON.parse(await readFile(path.join(pkgDir, "package.json"), "utf8"));
  if (!isObject(manifest) || !isObject(manifest.exports)) return ['package.json has no "exports" object'];
  const problems: string[] = [];
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    const targets = exportTargets(target);
    for (const { conditions, file } of targets) {
      if (!existsSync(path.join(pkgDir, file))) problems.push(`exports["${subpath}"] (${conditions.join(" > ") || "default"}) names ${file}, which is not in the tarball`);
    }
    if (!targets.some(({ conditions }) => conditions.includes("types"))) problems.push(`exports["${subpath}"] has no types`);
  }
  const files = await readdir(pkgDir, { recursive: true });
  for (const file of files.filter((name) => name.endsWith(".map"))) problems.push(`${file}: a source map ships`);
  return problems;
}

/** The problems found in one package directory's packed tarball, as lines for people. */
export async function checkPackage(packageDir: string): Promise<string[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), "check-package-"));
  try {
    // Packed from a copy: `prepack` rewrites package.json for a moment, and tests running meanwhile resolve
    // the workspace packages through the real one.
    const copy = path.join(work, "packages", path.basename(packageDir));
    await cp(packageDir, copy, { recursive: true, filter: (source) => !source.includes(`${path.sep}node_modules`) && !source.startsWith(path.join(packageDir, "src")) });
    await cp(path.join(repoRoot, "scripts"), path.join(work, "scripts"), { recursive: true });
    const packed = await run("npm", ["pack", "--pack-destination", work, "--silent"], copy);
    if (packed.code !== 0) return [`npm pack failed: ${packed.stderr.trim()}`];
    const [tarball] = (await readdir(work)).filter((file) => file.endsWith(".tgz"));
    if (tarball === undefined) return ["npm pack wrote no tarball"];
    const extracted = path.join(work, "extracted");
    await run("mkdir", ["-p", extracted], work);
    const untar = await run("tar", ["-xzf", path.join(work, tarball), "-C", extracted], work);
    if (untar.code !== 0) return [`tar failed: ${untar.stderr.trim()}`];
    const pkgDir = path.join(extracted, "package");

    const problems = await manifestProblems(pkgDir);
    // pack: false: the directory is the tarball's content, nothing else.
    const { messages, pkg } = await publint({ pkgDir, pack: false, strict: true });
    for (const message of messages) problems.push(`publint ${message.type}: ${formatMessage(message, pkg) ?? message.code}`);

    const attwBin = path.join(repoRoot, "node_modules", ".bin", "attw");
    const attw = await run(attwBin, [path.join(work, tarball), "--profile", "esm-only", "--format", "ascii", "--no-emoji", "--no-color"], work);
    if (attw.code !== 0) problems.push(`@arethetypeswrong/cli (esm-only): ${attw.stdout.trim()} ${attw.stderr.trim()}`);
    return problems;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename;
if (isMain) {
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : PUBLISHED_PACKAGE_DIRS.map((dir) => path.join(repoRoot, dir));
  let failed = false;
  for (const dir of dirs) {
    const problems = await checkPackage(path.resolve(dir));
    failed ||= problems.length > 0;
    console.log(problems.length === 0 ? `${path.relative(repoRoot, path.resolve(dir))}: publint, attw (esm-only) and manifest paths clean` : `${dir}:\n  ${problems.join("\n  ")}`);
  }
  if (failed) process.exitCode = 1;
}
