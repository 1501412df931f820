/**
 * What the published packages ship passes publint (strict) and @arethetypeswrong/cli (esm-only profile): the
 * repo's `npm run check:packages`, run on the packages the global set-up has just built.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "./e2e-environment.ts";

it("npm run check:packages: every published package is clean (publint, attw esm-only, manifest paths)", async () => {
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile("npm", ["run", "--silent", "check:packages"], { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, output: stdout + stderr });
    });
  });
  expect(code, output).toBe(0);
  for (const dir of ["k8s-runtime", "adapter-claude", "adapter-opencode", "adapter-codex", "adapter-gemini"]) expect(output).toContain(`packages/${dir}: publint, attw (esm-only) and manifest paths clean`);
}, 300_000);
