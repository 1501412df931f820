/**
 * Loads an adapter package from a directory (`--adapter-module`, `--compare`), as Paperclip loads an installed one:
 * its `./server` export (or, lacking one, its main) must export `createServerAdapter()`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { ServerAdapterModule } from "@paperclipai/adapter-utils";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An export target: a path, or conditions of which `import`, then `node`, then `default` is taken. */
function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === "string") return entry;
  if (!isRecord(entry)) return undefined;
  for (const condition of ["import", "node", "default"]) {
    const target = exportTarget(entry[condition]);
    if (target !== undefined) return target;
  }
  return undefined;
}

/** The file of the package's server entry point, and the package's name and version. */
async function serverEntry(dir: string): Promise<{ file: string; label: string }> {
  const manifestFile = path.join(dir, "package.json");
  const manifest: unknown = JSON.parse(await readFile(manifestFile, "utf8").catch(() => {
    throw new Error(`no adapter package in ${dir}: ${manifestFile} cannot be read`);
  }));
  if (!isRecord(manifest)) throw new Error(`${manifestFile} is not a JSON object`);
  const exportsField = manifest.exports;
  const target = (isRecord(exportsField) ? exportTarget(exportsField["./server"]) : undefined) ?? (typeof manifest.main === "string" ? manifest.main : undefined);
  if (target === undefined) throw new Error(`${manifestFile} has neither a "./server" export nor a main`);
  const name = typeof manifest.name === "string" ? manifest.name : path.basename(dir);
  const version = typeof manifest.version === "string" ? manifest.version : "(no version)";
  return { file: path.resolve(dir, target), label: `${name} ${version}` };
}

function isServerAdapter(value: unknown): value is ServerAdapterModule {
  return isRecord(value) && typeof value.type === "string" && typeof value.execute === "function";
}

export interface LoadedAdapter {
  adapter: ServerAdapterModule;
  /** Package name and version, for the report. */
  label: string;
}

export async function loadAdapterModule(dir: string): Promise<LoadedAdapter> {
  const { file, label } = await serverEntry(dir);
  const loaded: unknown = await import(pathToFileURL(file).href);
  const create = isRecord(loaded) ? loaded.createServerAdapter : undefined;
  if (typeof create !== "function") throw new Error(`${file} does not export createServerAdapter()`);
  const adapter: unknown = create();
  if (!isServerAdapter(adapter)) throw new Error(`createServerAdapter() of ${file} returned no adapter (a type and an execute function)`);
  return { adapter, label };
}
