import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { at, repoRoot } from "./rendered-kit.ts";

const recipeDir = path.join(repoRoot, "deploy", "images", "paperclip");
const registerScript = path.join(recipeDir, "register-adapters.mjs");

/** `name@version` of each adapter package in this repository, as the Paperclip image installs them by default. */
async function repoAdapterSpecs(): Promise<string[]> {
  const specs: string[] = [];
  for (const dir of ["adapter-claude", "adapter-opencode", "adapter-codex", "adapter-gemini"]) {
    const manifest: unknown = JSON.parse(await readFile(path.join(repoRoot, "packages", dir, "package.json"), "utf8"));
    specs.push(`${String(at(manifest, "name"))}@${String(at(manifest, "version"))}`);
  }
  return specs;
}

function register(home: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [registerScript, home], (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr });
    });
  });
}

interface FakePackage {
  name: string;
  version: string;
  /** Its ESM entry. */
  source: string;
}

/** Installs `packages` in <home>/adapter-plugins/node_modules and lists them in its package.json, as npm would. */
async function installPackages(home: string, packages: FakePackage[]): Promise<void> {
  for (const { name, version, source } of packages) {
    const dir = path.join(home, "adapter-plugins", "node_modules", name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ name, version, type: "module", exports: { ".": "./index.js" } }));
    await writeFile(path.join(dir, "index.js"), source);
  }
  const dependencies = Object.fromEntries(packages.map(({ name, version }) => [name, version]));
  await writeFile(path.join(home, "adapter-plugins", "package.json"), JSON.stringify({ name: "paperclip-adapter-plugins", private: true, dependencies }));
}

const ADAPTER: FakePackage = { name: "paperclip-adapter-one-k8s", version: "1.2.3", source: `export function createServerAdapter() { return { type: "one_k8s" }; }\n` };
const LIBRARY: FakePackage = { name: "support-library", version: "0.1.0", source: `export const helper = 1;\n` };

describe("deploy/images/paperclip", () => {
  it("installs this repository's adapters at their current versions by default", async () => {
    const specs = (await repoAdapterSpecs()).join(" ");
    expect(await readFile(path.join(recipeDir, "install.sh"), "utf8")).toContain(`set -- ${specs}\n`);
    expect(await readFile(path.join(recipeDir, "Dockerfile"), "utf8")).toContain(`ARG ADAPTERS="${specs}"\n`);
  });
});

describe("deploy/images/paperclip/register-adapters.mjs", () => {
  let home = "";
  afterEach(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("records each installed adapter as Paperclip does (package, version, the type createServerAdapter() returns), skipping other packages", async () => {
    home = await mkdtemp(path.join(tmpdir(), "deploy-kit-paperclip-home-"));
    await installPackages(home, [ADAPTER, LIBRARY]);
    await writeFile(
      path.join(home, "adapter-plugins.json"),
      JSON.stringify([
        { packageName: "paperclip-adapter-one-k8s", version: "1.0.0", type: "one_k8s", installedAt: "2026-01-01T00:00:00.000Z" },
        { packageName: "installed-from-the-ui", version: "2.0.0", type: "other_local", installedAt: "2026-01-01T00:00:00.000Z" },
      ]),
    );

    expect(await register(home)).toMatchObject({ code: 0 });
    const records: unknown = JSON.parse(await readFile(path.join(home, "adapter-plugins.json"), "utf8"));
    expect(records).toEqual([
      { packageName: "installed-from-the-ui", version: "2.0.0", type: "other_local", installedAt: "2026-01-01T00:00:00.000Z" },
      { packageName: "paperclip-adapter-one-k8s", version: "1.2.3", type: "one_k8s", installedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
  });

  it("fails, naming the directory, when no installed package is an adapter", async () => {
    home = await mkdtemp(path.join(tmpdir(), "deploy-kit-paperclip-home-"));
    await installPackages(home, [LIBRARY]);
    const outcome = await register(home);
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toContain(`no adapter (a package exporting createServerAdapter) in ${path.join(home, "adapter-plugins")}`);
  });
});
