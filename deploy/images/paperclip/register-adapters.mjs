// Records every adapter installed in <paperclip-home>/adapter-plugins in <paperclip-home>/adapter-plugins.json,
// as Paperclip's own install does: { packageName, version, type, installedAt }, the type being what the
// package's createServerAdapter() returns. Packages without createServerAdapter() are not adapters: skipped.
//
//   node register-adapters.mjs <paperclip-home>
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const home = process.argv[2];
if (home === undefined) {
  console.error("usage: node register-adapters.mjs <paperclip-home>");
  process.exit(2);
}
const pluginsDir = path.join(home, "adapter-plugins");
const storePath = path.join(home, "adapter-plugins.json");
const requireFromPlugins = createRequire(path.join(pluginsDir, "package.json"));
const dependencies = Object.keys(JSON.parse(readFileSync(path.join(pluginsDir, "package.json"), "utf8")).dependencies ?? {});

const registered = [];
for (const packageName of dependencies) {
  const module = await import(pathToFileURL(requireFromPlugins.resolve(packageName)).href);
  if (typeof module.createServerAdapter !== "function") continue;
  const { type } = module.createServerAdapter();
  if (typeof type !== "string" || type === "") throw new Error(`${packageName}: createServerAdapter() returned no type`);
  const { version } = JSON.parse(readFileSync(path.join(pluginsDir, "node_modules", packageName, "package.json"), "utf8"));
  registered.push({ packageName, version, type, installedAt: new Date().toISOString() });
}
if (registered.length === 0) throw new Error(`no adapter (a package exporting createServerAdapter) in ${pluginsDir}`);

const earlier = existsSync(storePath) ? JSON.parse(readFileSync(storePath, "utf8")) : [];
const kept = (Array.isArray(earlier) ? earlier : []).filter((record) => !registered.some((added) => added.type === record.type));
writeFileSync(storePath, `${JSON.stringify([...kept, ...registered], null, 2)}\n`);
for (const record of registered) console.error(`registered ${record.type}: ${record.packageName}@${record.version}`);
