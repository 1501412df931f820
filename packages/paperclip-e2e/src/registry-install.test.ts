/**
 * The adapters installed the way operators install them: published with the repo's release command
 * (`npm run release:publish`: `changeset pack`, then `changeset publish` from the packed tarballs) to a real npm
 * registry on 127.0.0.1 (Verdaccio, no uplinks), and installed into a real Paperclip **by package name**, one
 * after the other, through `POST /api/adapters/install` and the `paperclipai adapter install` CLI. Paperclip's
 * npm finds the registry through `npm_config_registry` in the server's environment (it runs npm with its own
 * environment). Then an upgrade (a newer version released and installed) and the uninstall of one adapter.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadUiParser } from "paperclip-k8s-runtime/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { repoRoot, startE2eEnvironment, type E2eEnvironment } from "./e2e-environment.ts";
import { startLocalRegistry, type LocalRegistry } from "./local-registry.ts";
import { isJsonObject, TERMINAL_RUN_STATUSES, type JsonObject } from "./paperclip-api.ts";

const RUN_TIMEOUT_MS = 150_000;
const PUBLISHED = [
  { dir: "k8s-runtime", name: "paperclip-k8s-runtime" },
  { dir: "adapter-claude", name: "paperclip-adapter-claude-k8s", type: "claude_k8s", transcript: "claude/happy" },
  { dir: "adapter-opencode", name: "paperclip-adapter-opencode-k8s", type: "opencode_k8s", transcript: "opencode/happy" },
  { dir: "adapter-codex", name: "paperclip-adapter-codex-k8s", type: "codex_k8s", transcript: "codex/happy" },
  { dir: "adapter-gemini", name: "paperclip-adapter-gemini-k8s", type: "gemini_k8s", transcript: "gemini/happy" },
] as const;
const [, CLAUDE, OPENCODE] = PUBLISHED;

let registry: LocalRegistry;
let env: E2eEnvironment;
/** A copy of the workspace's release inputs (manifests, built dist, changesets), so versioning never touches the repo. */
let releaseRoot: string;

function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<string> {
  const childEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`, ...options.env };
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd, env: childEnv, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
      else resolve(stdout);
    });
  });
}

/** Copies what the release needs: the root manifest, changesets and scripts, each workspace package without its sources. */
async function copyReleaseInputs(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "paperclip-release-"));
  // package-lock.json: changesets finds the workspace through it (npm).
  for (const entry of ["package.json", "package-lock.json", ".changeset", "scripts"]) await cp(path.join(repoRoot, entry), path.join(root, entry), { recursive: true });
  await symlink(path.join(repoRoot, "node_modules"), path.join(root, "node_modules"));
  for (const dir of ["k8s-runtime", "adapter-claude", "adapter-opencode", "adapter-codex", "adapter-gemini", "k8s-sim", "paperclip-e2e"]) {
    const from = path.join(repoRoot, "packages", dir);
    const to = path.join(root, "packages", dir);
    await mkdir(to, { recursive: true });
    await cp(path.join(from, "package.json"), path.join(to, "package.json"));
    if (PUBLISHED.some((pkg) => pkg.dir === dir)) {
      for (const entry of ["dist", "README.md", "LICENSE"]) await cp(path.join(from, entry), path.join(to, entry), { recursive: true });
    }
  }
  return root;
}

/** The operators' release command, run in the copy against the local registry (no git there, so no tags). */
async function release(): Promise<void> {
  await rm(path.join(releaseRoot, ".release"), { recursive: true, force: true });
  await run("npm", ["run", "release:publish", "--", "--no-git-tag"], { cwd: releaseRoot, env: registry.npmEnv() });
}

async function versionInCopy(dir: string): Promise<string> {
  const manifest: unknown = JSON.parse(await readFile(path.join(releaseRoot, "packages", dir, "package.json"), "utf8"));
  if (!isJsonObject(manifest) || typeof manifest.version !== "string") throw new Error(`no version in the copy's ${dir}`);
  return manifest.version;
}

async function pluginsManifest(): Promise<JsonObject> {
  const manifest: unknown = JSON.parse(await readFile(path.join(env.server.home, "adapter-plugins", "package.json"), "utf8"));
  if (!isJsonObject(manifest)) throw new Error("the plugins directory's package.json is not an object");
  return manifest;
}

async function installedVersion(name: string): Promise<string | undefined> {
  try {
    const manifest: unknown = JSON.parse(await readFile(path.join(env.server.home, "adapter-plugins", "node_modules", name, "package.json"), "utf8"));
    return isJsonObject(manifest) && typeof manifest.version === "string" ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

/** The external adapters Paperclip has loaded, by type, with the version it reports. */
async function loadedAdapters(): Promise<Map<string, unknown>> {
  const adapters = await env.api.request("GET", "/adapters");
  if (!Array.isArray(adapters)) throw new Error(`GET /adapters is not a list: ${JSON.stringify(adapters).slice(0, 500)}`);
  return new Map(adapters.filter(isJsonObject).filter((adapter) => adapter.source === "external").map((adapter) => [String(adapter.type), adapter.version]));
}

/** A new agent of `adapter` runs the recorded happy transcript through the fake agent on the cluster; returns the run. */
async function runTask(adapter: typeof CLAUDE | typeof OPENCODE, label: string): Promise<JsonObject> {
  const agentId = await env.api.createAgent(env.companyId, { name: `${adapter.type} ${label}`, adapterType: adapter.type, adapterConfig: env.agentConfig() });
  await env.api.createIssue(env.companyId, env.taskTitle({ transcript: adapter.transcript }), agentId);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [queued] = await env.api.runsOf(env.companyId, agentId);
    if (queued) return env.api.waitForRun(queued.id, (current) => TERMINAL_RUN_STATUSES.has(current.status), RUN_TIMEOUT_MS);
    if (Date.now() > deadline) throw new Error(`assigning a task did not wake agent ${agentId}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  registry = await startLocalRegistry();
  // The third-party packages the published ones need, from the repo's own install (the registry has no uplink).
  await registry.seedDependencies(PUBLISHED.map((pkg) => path.join(repoRoot, "packages", pkg.dir)), repoRoot);
  releaseRoot = await copyReleaseInputs();
  await release();
  // Only the registry's address: Paperclip's npm reads npm_config_registry from the server's environment.
  env = await startE2eEnvironment(inject("paperclipInstallDir"), { serverEnv: { npm_config_registry: registry.url }, installFromRepo: false });
}, 600_000);

afterAll(async () => {
  await env?.stop();
  await registry?.stop();
  if (releaseRoot) await rm(releaseRoot, { recursive: true, force: true });
});

describe("adapters published to a registry and installed by name", { timeout: 600_000 }, () => {
  it("the release command publishes the runtime and both adapters; installed by name one after the other, both stay, load after a restart and run a task", async () => {
    for (const pkg of PUBLISHED) expect(await registry.versions(pkg.name), pkg.name).toEqual([await versionInCopy(pkg.dir)]);

    // The API, as the UI calls it.
    const first = await env.api.request("POST", "/adapters/install", { packageName: CLAUDE.name });
    expect(first).toMatchObject({ type: CLAUDE.type, packageName: CLAUDE.name, version: await versionInCopy(CLAUDE.dir) });
    // The CLI, exactly as the README writes it.
    const cli = path.join(inject("paperclipInstallDir"), "node_modules", "paperclipai", "dist", "index.js");
    const printed = await run(process.execPath, [cli, "adapter", "install", "--payload-json", JSON.stringify({ packageName: OPENCODE.name }), "--api-base", env.server.url, "--json"], {
      cwd: os.tmpdir(),
    });
    expect(JSON.parse(printed)).toMatchObject({ type: OPENCODE.type, packageName: OPENCODE.name });

    // npm's view: both on disk and both dependencies of the plugins directory (each adapter recorded itself).
    expect(await installedVersion(CLAUDE.name)).toBe(await versionInCopy(CLAUDE.dir));
    expect(await installedVersion(OPENCODE.name)).toBe(await versionInCopy(OPENCODE.dir));
    expect((await pluginsManifest()).dependencies).toEqual({ [CLAUDE.name]: await versionInCopy(CLAUDE.dir), [OPENCODE.name]: await versionInCopy(OPENCODE.dir) });

    await env.server.restart();
    expect([...(await loadedAdapters()).keys()].sort()).toEqual([CLAUDE.type, OPENCODE.type]);
    for (const adapter of [CLAUDE, OPENCODE]) {
      const finished = await runTask(adapter, "after restart");
      expect(finished.status, JSON.stringify(finished.error)).toBe("succeeded");
    }
  });

  it("each package installs alone from the registry into an empty directory and loads on Node 24 without the repo", async () => {
    // Side by side: each in its own empty directory.
    const installAlone = async (pkg: (typeof PUBLISHED)[number]): Promise<void> => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "paperclip-install-alone-"));
      try {
        await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "install-alone", private: true, type: "module" }));
        await run("npm", ["install", "--no-audit", "--no-fund", pkg.name], { cwd: dir, env: registry.npmEnv() });
        // Default conditions only (no `source`), from outside the repo: what an operator's Node sees.
        const probe = `const m = await import(${JSON.stringify(pkg.name)}); console.log(JSON.stringify(typeof m.createServerAdapter === "function" ? { type: m.createServerAdapter().type } : { exports: Object.keys(m).length }));`;
        const printed = JSON.parse(await run(process.execPath, ["--input-type=module", "-e", probe], { cwd: dir }));
        if ("type" in pkg) {
          expect(printed).toEqual({ type: pkg.type });
          const parser = loadUiParser(await readFile(path.join(dir, "node_modules", pkg.name, "dist", "ui-parser.cjs"), "utf8"));
          expect(parser.parseStdoutLine("not json", "2026-01-01T00:00:00.000Z")).toEqual(expect.any(Array));
        } else {
          expect(printed.exports).toBeGreaterThan(0);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    };
    await Promise.all(PUBLISHED.map(installAlone));
  });

  it("upgrade: a newer release installed by name replaces one adapter and keeps the other", async () => {
    const before = await versionInCopy(CLAUDE.dir);
    await writeFile(path.join(releaseRoot, ".changeset", "registry-e2e-upgrade.md"), `---\n"${CLAUDE.name}": minor\n---\n\nA newer release for the upgrade test.\n`);
    await run(path.join(repoRoot, "node_modules", ".bin", "changeset"), ["version"], { cwd: releaseRoot });
    const upgraded = await versionInCopy(CLAUDE.dir);
    expect(upgraded).not.toBe(before);
    // changesets wrote the package's CHANGELOG, which the tarball ships.
    expect(await readFile(path.join(releaseRoot, "packages", CLAUDE.dir, "CHANGELOG.md"), "utf8")).toContain(`## ${upgraded}`);
    await release();
    expect(await registry.versions(CLAUDE.name)).toEqual(expect.arrayContaining([before, upgraded]));

    const answer = await env.api.request("POST", "/adapters/install", { packageName: CLAUDE.name, version: upgraded });
    expect(answer).toMatchObject({ type: CLAUDE.type, version: upgraded, requiresRestart: true });
    await env.server.restart();
    const loaded = await loadedAdapters();
    expect(loaded.get(CLAUDE.type)).toBe(upgraded);
    expect(loaded.get(OPENCODE.type)).toBe(await installedVersion(OPENCODE.name));
    expect((await pluginsManifest()).dependencies).toMatchObject({ [CLAUDE.name]: upgraded });
    const finished = await runTask(CLAUDE, "upgraded");
    expect(finished.status, JSON.stringify(finished.error)).toBe("succeeded");
  });

  it("uninstall of one adapter leaves the other installed and working", async () => {
    expect(await env.api.request("DELETE", `/adapters/${OPENCODE.type}`)).toMatchObject({ type: OPENCODE.type, removed: true });
    expect(await installedVersion(OPENCODE.name)).toBeUndefined();
    expect(await installedVersion(CLAUDE.name)).toBeDefined();
    expect(Object.keys(await pluginsManifest().then((manifest) => (isJsonObject(manifest.dependencies) ? manifest.dependencies : {})))).toEqual([CLAUDE.name]);

    await env.server.restart();
    expect([...(await loadedAdapters()).keys()]).toEqual([CLAUDE.type]);
    const finished = await runTask(CLAUDE, "after uninstall");
    expect(finished.status, JSON.stringify(finished.error)).toBe("succeeded");
  });
});
