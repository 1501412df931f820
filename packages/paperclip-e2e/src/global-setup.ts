/**
 * Runs once before the end-to-end tests: installs the pinned Paperclip server into its cache outside the repo
 * (`scripts/install-paperclip.sh`, a no-op when the install is complete) and builds the packages, because
 * Paperclip imports each adapter's built entry (`dist/index.js`), not its TypeScript sources.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The directory `scripts/install-paperclip.sh` installed `paperclipai` into. */
    paperclipInstallDir: string;
  }
}

export const repoRoot = path.resolve(fileURLToPath(new URL("../../..", import.meta.url)));

function run(file: string, args: string[]): Promise<string> {
  // The repo's pinned Node first on PATH, whichever way the tests were started.
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr.slice(-5000)}`));
      else resolve(stdout);
    });
  });
}

export default async function setup(project: TestProject): Promise<void> {
  const installed = await run("bash", [path.join(repoRoot, "scripts", "install-paperclip.sh")]);
  const installDir = installed.trim().split("\n").at(-1);
  if (!installDir) throw new Error("scripts/install-paperclip.sh printed no install directory");
  await run("npm", ["run", "build"]);
  project.provide("paperclipInstallDir", installDir);
}
