import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigForbiddenError, ConfigValueError } from "./config-values.ts";
import { ALLOWED_FILE_ROOTS_ENV, operatorRoots, readServerFile, resolveServerPath, serverPathPolicy, type ServerPathScope } from "./server-paths.ts";

let root: string;
let ir: string;
let scope: ServerPathScope;
beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), "server-paths-")));
  ir = path.join(root, "paperclip", "instances", "default");
  scope = { instanceRoot: ir, companyId: "c1", agentId: "a1", env: { PAPERCLIP_HOME: path.join(root, "paperclip") } };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function file(at: string, text = "hello\n"): Promise<string> {
  await mkdir(path.dirname(at), { recursive: true });
  await writeFile(at, text);
  return at;
}

function refusal(run: () => unknown): ConfigValueError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigValueError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("serverPathPolicy and resolveServerPath", () => {
  it("allows the agent's instructions, its workspace and the company's projects; nothing else by default", async () => {
    const policy = serverPathPolicy("instructions", scope);
    for (const allowed of [
      path.join(ir, "companies", "c1", "agents", "a1", "instructions", "AGENTS.md"),
      path.join(ir, "workspaces", "a1", "docs", "guide.md"),
      path.join(ir, "projects", "c1", "p1", "repo", "AGENTS.md"),
    ]) {
      expect(resolveServerPath(policy, "instructionsFilePath", await file(allowed))).toBe(allowed);
    }
    for (const other of [
      path.join(ir, "companies", "c1", "agents", "a2", "instructions", "AGENTS.md"),
      path.join(ir, "workspaces", "a2", "x.md"),
      path.join(ir, "projects", "c2", "p", "AGENTS.md"),
      path.join(root, "elsewhere.md"),
    ]) {
      const error = refusal(() => resolveServerPath(policy, "instructionsFilePath", other));
      expect(error).toBeInstanceOf(ConfigForbiddenError);
      expect(error.message).toContain("is outside the allowed roots for instructions");
      expect(error.message).toContain(ALLOWED_FILE_ROOTS_ENV);
    }
  });

  it("never allows /proc, /sys, /dev or the instance's private places, not even under an operator root", async () => {
    const policy = serverPathPolicy("instructions", { ...scope, env: { ...scope.env, [ALLOWED_FILE_ROOTS_ENV]: "/" } });
    for (const [place, lies] of [
      ["/proc/self/environ", "/proc"],
      ["/sys/kernel/hostname", "/sys"],
      ["/dev/zero", "/dev"],
      [path.join(ir, "secrets", "master.key"), path.join(ir, "secrets")],
      [path.join(ir, "db", "PG_VERSION"), path.join(ir, "db")],
      [path.join(ir, "config.json"), path.join(ir, "config.json")],
      [path.join(ir, ".env"), path.join(ir, ".env")],
      [path.join(ir, "data", "k8s-runs", "c2", "a2", "r", "output", "stdout"), path.join(ir, "data")],
      [path.join(ir, "workspaces", "a1", "..", "..", "secrets", "master.key"), path.join(ir, "secrets")],
    ] as const) {
      const error = refusal(() => resolveServerPath(policy, "instructionsFilePath", place));
      expect(error).toBeInstanceOf(ConfigForbiddenError);
      expect(error.message).toContain(`it lies in ${lies}, which config may never name`);
    }
    expect(resolveServerPath(policy, "instructionsFilePath", await file(path.join(root, "anywhere.md")))).toBe(path.join(root, "anywhere.md"));
  });

  it("forbids Paperclip's own instance root too when config points instanceRoot elsewhere", async () => {
    const moved = { ...scope, instanceRoot: path.join(root, "decoy"), env: { ...scope.env, [ALLOWED_FILE_ROOTS_ENV]: root } };
    const error = refusal(() => resolveServerPath(serverPathPolicy("instructions", moved), "instructionsFilePath", path.join(ir, "secrets", "master.key")));
    expect(error.message).toContain(`it lies in ${path.join(ir, "secrets")}`);
  });

  it("resolves links before the check: a link in a root to a file outside is refused, one to a file inside is followed", async () => {
    const policy = serverPathPolicy("instructions", scope);
    const workspace = path.join(ir, "workspaces", "a1");
    const outside = await file(path.join(root, "server-secret.txt"), "secret");
    await file(path.join(workspace, "real.md"));
    await symlink(outside, path.join(workspace, "leak.md"));
    await symlink(path.join(workspace, "real.md"), path.join(workspace, "alias.md"));
    await symlink(root, path.join(workspace, "up"));
    expect(refusal(() => resolveServerPath(policy, "instructionsFilePath", path.join(workspace, "leak.md"))).message).toMatch(
      /is a link to .*server-secret\.txt, and it is outside the allowed roots/,
    );
    expect(refusal(() => resolveServerPath(policy, "instructionsFilePath", path.join(workspace, "up", "server-secret.txt"))).message).toMatch(
      /is a link to .*server-secret\.txt/,
    );
    expect(resolveServerPath(policy, "instructionsFilePath", path.join(workspace, "alias.md"))).toBe(path.join(workspace, "real.md"));
  });

  it("refuses a path outside the roots without looking at the filesystem (no probing which files exist)", () => {
    const policy = serverPathPolicy("instructions", scope);
    const missing = refusal(() => resolveServerPath(policy, "instructionsFilePath", path.join(root, "missing.md")));
    const existing = refusal(() => resolveServerPath(policy, "instructionsFilePath", "/etc/hostname"));
    expect(missing.message).toContain("outside the allowed roots");
    expect(existing.message).toContain("outside the allowed roots");
    const inside = refusal(() => resolveServerPath(policy, "instructionsFilePath", path.join(ir, "workspaces", "a1", "missing.md")));
    expect(inside).not.toBeInstanceOf(ConfigForbiddenError);
    expect(inside.message).toContain("does not exist");
    expect(refusal(() => resolveServerPath(policy, "instructionsFilePath", "relative.md")).message).toContain("must be an absolute path");
  });

  it("skills: the company's skill library and the operator's roots; kubeconfig: ~/.kube, $KUBECONFIG's directory and the operator's roots", async () => {
    const skills = serverPathPolicy("skills", scope);
    expect(resolveServerPath(skills, "paperclipRuntimeSkills", await file(path.join(ir, "skills", "c1", "__runtime__", "x", "SKILL.md")))).toContain("__runtime__");
    expect(refusal(() => resolveServerPath(skills, "paperclipRuntimeSkills", path.join(ir, "skills", "c2", "x"))).message).toContain("outside the allowed roots for skills");
    const kubeconfig = serverPathPolicy("kubeconfig", { ...scope, env: { KUBECONFIG: path.join(root, "kube", "config") } });
    expect(resolveServerPath(kubeconfig, "kubeconfig", await file(path.join(root, "kube", "config")))).toBe(path.join(root, "kube", "config"));
    expect(refusal(() => resolveServerPath(kubeconfig, "kubeconfig", path.join(ir, "workspaces", "a1", "kubeconfig"))).message).toContain(
      "outside the allowed roots for kubeconfig",
    );
  });

  it("takes operator roots from the server env: absolute paths (directories or files) only", () => {
    expect(operatorRoots({ [ALLOWED_FILE_ROOTS_ENV]: "/srv/agents-docs: relative/dir ::/etc/kubeconfig.yaml" })).toEqual([
      "/srv/agents-docs",
      "/etc/kubeconfig.yaml",
    ]);
    expect(operatorRoots({})).toEqual([]);
  });
});

describe("readServerFile", () => {
  const instructions = () => serverPathPolicy("instructions", scope);

  it("reads an allowed regular file, capped", async () => {
    const at = await file(path.join(ir, "workspaces", "a1", "AGENTS.md"), "# Be brief\n");
    expect((await readServerFile(instructions(), "instructionsFilePath", at, 100)).text).toBe("# Be brief\n");
    expect((await readServerFile(instructions(), "instructionsFilePath", at, 100)).path).toBe(await realpath(at));
    const error = await readServerFile(instructions(), "instructionsFilePath", at, 5).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigValueError);
    expect(String(error)).toContain("is larger than 5 bytes");
  });

  it("refuses a FIFO without blocking, and a directory", async () => {
    const fifo = path.join(ir, "workspaces", "a1", "pipe.md");
    await mkdir(path.dirname(fifo), { recursive: true });
    execFileSync("mkfifo", [fifo]);
    await expect(readServerFile(instructions(), "instructionsFilePath", fifo, 100)).rejects.toThrow(/is refused: .*is a FIFO/);
    await expect(readServerFile(instructions(), "instructionsFilePath", path.dirname(fifo), 100)).rejects.toThrow(/is refused: .*is a directory/);
  });

  it("reads a file again whenever it changed or was replaced, and checks the path every time even when it has not", async () => {
    const at = await file(path.join(ir, "workspaces", "a1", "AGENTS.md"), "first\n");
    expect((await readServerFile(instructions(), "instructionsFilePath", at, 100)).text).toBe("first\n");
    expect((await readServerFile(instructions(), "instructionsFilePath", at, 100)).text).toBe("first\n");
    // Same size, same second: the change time and inode still tell.
    await writeFile(at, "other\n");
    expect((await readServerFile(instructions(), "instructionsFilePath", at, 100)).text).toBe("other\n");
    const replacement = await file(path.join(ir, "workspaces", "a1", "next.md"), "third\n");
    await rename(replacement, at);
    expect((await readServerFile(instructions(), "instructionsFilePath", at, 100)).text).toBe("third\n");
    // What was read before is no reason to skip the checks: a smaller cap, and another agent's policy, still refuse.
    await expect(readServerFile(instructions(), "instructionsFilePath", at, 3)).rejects.toThrow(/is larger than 3 bytes/);
    const otherAgent = serverPathPolicy("instructions", { ...scope, agentId: "a2" });
    await expect(readServerFile(otherAgent, "instructionsFilePath", at, 100)).rejects.toBeInstanceOf(ConfigForbiddenError);
    // Swapped for a link to a file outside the roots: refused, not answered from memory.
    await rm(at);
    await symlink(await file(path.join(root, "elsewhere.md"), "third\n"), at);
    await expect(readServerFile(instructions(), "instructionsFilePath", at, 100)).rejects.toBeInstanceOf(ConfigForbiddenError);
  });

  it("refuses /proc/self/environ before reading anything", async () => {
    const error = await readServerFile(instructions(), "instructionsFilePath", "/proc/self/environ", 1 << 20).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigForbiddenError);
    expect(String(error)).not.toContain("PATH=");
  });
});
