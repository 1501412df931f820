import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PAPERCLIP_PLUGINS_MANIFEST_NAME, pinInPaperclipPlugins } from "./plugin-pin.ts";

const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  vi.restoreAllMocks();
});

/** A plugins directory as Paperclip 2026.916.1 creates it, with packages installed under node_modules. */
function pluginsDir(manifest: unknown = { name: PAPERCLIP_PLUGINS_MANIFEST_NAME, version: "0.0.0", private: true }): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "plugin-pin-"));
  roots.push(root);
  const dir = path.join(root, "adapter-plugins");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "package.json"), typeof manifest === "string" ? manifest : JSON.stringify(manifest));
  return dir;
}

/** Installs a package's manifest and entry under `<dir>/node_modules/<name>`; returns the entry's URL. */
function installPackage(dir: string, name: string, version: string): string {
  const packageDir = path.join(dir, "node_modules", ...name.split("/"));
  mkdirSync(path.join(packageDir, "dist"), { recursive: true });
  writeFileSync(path.join(packageDir, "package.json"), JSON.stringify({ name, version }));
  writeFileSync(path.join(packageDir, "dist", "index.js"), "");
  return pathToFileURL(path.join(packageDir, "dist", "index.js")).href;
}

function dependencies(dir: string): unknown {
  const manifest: unknown = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  return typeof manifest === "object" && manifest !== null ? Reflect.get(manifest, "dependencies") : undefined;
}

describe("pinInPaperclipPlugins", () => {
  it("records each adapter at its installed version, keeping what the manifest already lists", () => {
    const dir = pluginsDir();
    expect(pinInPaperclipPlugins(installPackage(dir, "paperclip-adapter-claude-k8s", "0.2.0"))).toMatchObject({ state: "pinned" });
    expect(pinInPaperclipPlugins(installPackage(dir, "@acme/adapter-x-k8s", "1.0.0"))).toMatchObject({ state: "pinned" });
    expect(dependencies(dir)).toEqual({ "paperclip-adapter-claude-k8s": "0.2.0", "@acme/adapter-x-k8s": "1.0.0" });
    expect(JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"))).toMatchObject({ name: PAPERCLIP_PLUGINS_MANIFEST_NAME, private: true });
  });

  it("follows an upgrade and leaves an unchanged pin alone", () => {
    const dir = pluginsDir();
    const entry = installPackage(dir, "paperclip-adapter-claude-k8s", "0.2.0");
    pinInPaperclipPlugins(entry);
    expect(pinInPaperclipPlugins(entry)).toMatchObject({ state: "already-pinned" });
    pinInPaperclipPlugins(installPackage(dir, "paperclip-adapter-claude-k8s", "0.3.0"));
    expect(dependencies(dir)).toEqual({ "paperclip-adapter-claude-k8s": "0.3.0" });
  });

  it("does nothing outside Paperclip's plugins directory", () => {
    const other = pluginsDir({ name: "some-app", version: "1.0.0" });
    expect(pinInPaperclipPlugins(installPackage(other, "paperclip-adapter-claude-k8s", "0.2.0"))).toMatchObject({ state: "not-in-plugins-directory" });
    expect(dependencies(other)).toBeUndefined();
    // A local-path install: the package is not under anybody's node_modules.
    const local = pluginsDir();
    const packageDir = path.join(local, "checkout");
    mkdirSync(packageDir);
    writeFileSync(path.join(packageDir, "package.json"), JSON.stringify({ name: "paperclip-adapter-claude-k8s", version: "0.2.0" }));
    expect(pinInPaperclipPlugins(pathToFileURL(path.join(packageDir, "index.js")).href)).toMatchObject({ state: "not-in-plugins-directory" });
    expect(dependencies(local)).toBeUndefined();
  });

  it("a malformed manifest is reported and left as it was, never thrown", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const dir = pluginsDir("{ not json");
    expect(pinInPaperclipPlugins(installPackage(dir, "paperclip-adapter-claude-k8s", "0.2.0"))).toMatchObject({ state: "failed" });
    expect(readFileSync(path.join(dir, "package.json"), "utf8")).toBe("{ not json");
    const listsNoObject = pluginsDir({ name: PAPERCLIP_PLUGINS_MANIFEST_NAME, dependencies: ["x"] });
    expect(pinInPaperclipPlugins(installPackage(listsNoObject, "paperclip-adapter-claude-k8s", "0.2.0"))).toMatchObject({
      state: "failed",
      reason: expect.stringContaining('"dependencies"'),
    });
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[0]?.[0])).toContain("may remove it");
  });
});
