/**
 * Keeps an adapter package installed when Paperclip installs another one.
 *
 * Paperclip 2026.916.1 installs an adapter with `npm install --no-save <package>` in
 * `$PAPERCLIP_HOME/adapter-plugins`, whose `package.json` (Paperclip's, named
 * `paperclip-adapter-plugins`) lists no dependencies; npm then prunes every adapter installed before
 * as extraneous, and `npm uninstall` of one adapter prunes all the others
 * (docs/paperclip-adapter-install.md). Paperclip imports an adapter right after installing it and at
 * every start, so the adapter records itself there: once its exact version is a dependency in that
 * `package.json`, npm keeps it through the next install or uninstall, and `npm uninstall` of this
 * adapter removes the entry again.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The `name` Paperclip gives the `package.json` of its plugins directory. */
export const PAPERCLIP_PLUGINS_MANIFEST_NAME = "paperclip-adapter-plugins";

export type PluginPinOutcome =
  | { state: "pinned" | "already-pinned"; manifest: string; name: string; version: string }
  | { state: "not-in-plugins-directory"; packageDir: string }
  | { state: "failed"; manifest: string; reason: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readJsonObject(file: string): JsonObject {
  const value: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!isObject(value)) throw new Error(`${file} is not a JSON object`);
  return value;
}

/** The directory of the package holding `file`: the nearest one up with a `package.json`. */
function packageDirOf(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
  }
}

/** Where the package was installed from: `<plugins>/node_modules/<name>` or `<plugins>/node_modules/@scope/<name>`. */
function pluginsDirOf(packageDir: string, name: string): string | undefined {
  const depth = name.split("/").length;
  let nodeModules = packageDir;
  for (let level = 0; level < depth; level++) nodeModules = path.dirname(nodeModules);
  if (path.basename(nodeModules) !== "node_modules" || path.relative(nodeModules, packageDir) !== path.join(...name.split("/"))) return undefined;
  return path.dirname(nodeModules);
}

/**
 * Records the adapter whose module is `moduleUrl` (its `import.meta.url`) as a dependency of the
 * plugins directory it was installed into, at its installed version. Does nothing outside a
 * Paperclip plugins directory (a local-path install, a workspace, an image's own node_modules).
 * Never throws: a read-only or malformed directory leaves Paperclip's behaviour as it was (with a
 * warning on the server's output).
 */
export function pinInPaperclipPlugins(moduleUrl: string): PluginPinOutcome {
  let manifest = "";
  try {
    const packageDir = packageDirOf(fileURLToPath(moduleUrl));
    const own = readJsonObject(path.join(packageDir, "package.json"));
    const { name, version } = own;
    if (typeof name !== "string" || typeof version !== "string") throw new Error(`${packageDir}/package.json has no name or version`);
    const pluginsDir = pluginsDirOf(packageDir, name);
    manifest = pluginsDir === undefined ? "" : path.join(pluginsDir, "package.json");
    if (pluginsDir === undefined || !existsSync(manifest)) return { state: "not-in-plugins-directory", packageDir };
    const plugins = readJsonObject(manifest);
    if (plugins.name !== PAPERCLIP_PLUGINS_MANIFEST_NAME) return { state: "not-in-plugins-directory", packageDir };
    const dependencies = plugins.dependencies ?? {};
    if (!isObject(dependencies)) throw new Error(`"dependencies" in ${manifest} is not an object`);
    if (dependencies[name] === version) return { state: "already-pinned", manifest, name, version };
    const updated = { ...plugins, dependencies: { ...dependencies, [name]: version } };
    // Written aside and renamed: a reader (npm, Paperclip) never sees half a file.
    const temporary = `${manifest}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(updated, null, 2)}\n`);
    renameSync(temporary, manifest);
    return { state: "pinned", manifest, name, version };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // Paperclip shows the server's output; an operator must know the next install may remove this adapter.
    console.warn(`[paperclip-k8s-runtime] could not record this adapter in ${manifest || "Paperclip's plugins directory"} (${reason}); installing another adapter through Paperclip may remove it: pin it there by hand (see the runtime README)`);
    return { state: "failed", manifest, reason };
  }
}
