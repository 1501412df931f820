import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentClaimMounts, assertNoLinksIn, claimPathOf, operatorWorkspaceRoots, workspaceProblem, WorkspaceRefusedError } from "./pod-volumes.ts";
import { runDirectoryFor } from "./run-directory.ts";

const instanceRoot = "/paperclip/instances/default";
const volume = { claimName: "data", mountPath: "/paperclip" };
const owner = { instanceRoot, companyId: "co-1", agentId: "agent-1", home: `${instanceRoot}/data/k8s-runs/co-1/agent-1/.home` };

describe("workspaceProblem", () => {
  it.each([
    `${instanceRoot}/workspaces/agent-1`,
    `${instanceRoot}/workspaces/agent-1/sub/dir`,
    `${instanceRoot}/projects/co-1/project-9/repo`,
    `${instanceRoot}/chat-workspaces/co-1/agent-1/issue-3`,
    `${instanceRoot}/data/k8s-runs/co-1/agent-1/.home/work`,
    "/elsewhere/not-on-the-volume",
  ])("allows %s", (cwd) => {
    expect(workspaceProblem(cwd, volume, owner, [])).toBeNull();
  });

  it.each([
    ["another agent's workspace", `${instanceRoot}/workspaces/agent-2`],
    ["all workspaces", `${instanceRoot}/workspaces`],
    ["another company's project", `${instanceRoot}/projects/co-2/project-9/repo`],
    ["all of a company's projects", `${instanceRoot}/projects/co-1`],
    ["another agent's chats", `${instanceRoot}/chat-workspaces/co-1/agent-2`],
    ["the run directories", `${instanceRoot}/data/k8s-runs/co-1/agent-1`],
    ["Paperclip's secrets", `${instanceRoot}/secrets`],
    ["a way out with ..", `${instanceRoot}/workspaces/agent-1/../agent-2`],
  ])("refuses %s", (_, cwd) => {
    expect(workspaceProblem(cwd, volume, owner, [])).toMatch(/not one of this agent's workspaces/);
  });

  it("refuses the instance root and anything containing it", () => {
    for (const cwd of [instanceRoot, "/paperclip/instances", "/paperclip"]) {
      expect(workspaceProblem(cwd, volume, owner, [])).toMatch(/contains Paperclip's instance root/);
    }
  });

  it("allows the volume outside the instance root only below roots the operator lists in the server's environment", () => {
    expect(workspaceProblem("/paperclip/repos/team-a", volume, owner, [])).toMatch(/PAPERCLIP_K8S_WORKSPACE_ROOTS/);
    const roots = operatorWorkspaceRoots({ PAPERCLIP_K8S_WORKSPACE_ROOTS: "/paperclip/repos: relative/ignored :" });
    expect(roots).toEqual(["/paperclip/repos"]);
    expect(workspaceProblem("/paperclip/repos/team-a", volume, owner, roots)).toBeNull();
    // The root itself would hold every team's directories.
    expect(workspaceProblem("/paperclip/repos", volume, owner, roots)).not.toBeNull();
  });
});

describe("claimPathOf and agentClaimMounts", () => {
  it("maps server paths into the claim, through the server's own subPath", () => {
    expect(claimPathOf(volume, `${instanceRoot}/workspaces/agent-1`)).toBe("instances/default/workspaces/agent-1");
    expect(claimPathOf({ ...volume, subPath: "tenant-a" }, "/paperclip/x")).toBe("tenant-a/x");
    expect(claimPathOf(volume, "/tmp/x")).toBeNull();
  });

  it("mounts input read-only, output, HOME and the workspace read-write, parents first; never the whole claim", () => {
    const run = runDirectoryFor({ instanceRoot, companyId: "co-1", agentId: "agent-1", runId: "run-1" });
    const mounts = agentClaimMounts(volume, run, `${instanceRoot}/workspaces/agent-1`);
    expect(mounts.map((mount) => [mount.mountPath, mount.readOnly])).toEqual([
      [`${instanceRoot}/workspaces/agent-1`, false],
      [run.home, false],
      [run.input, true],
      [run.output, false],
    ]);
    for (const mount of mounts) expect(mount.subPath).not.toBe(".");
    // A cwd inside HOME is already mounted; one off the volume lives in the pod only.
    expect(agentClaimMounts(volume, run, `${run.home}/work`)).toHaveLength(3);
    expect(agentClaimMounts(volume, run, "/work")).toHaveLength(3);
  });
});

describe("assertNoLinksIn", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "pod-volumes-test-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("accepts real directories and paths still to be created; refuses a link anywhere on the way", async () => {
    await mkdir(path.join(root, "workspaces", "agent-1"), { recursive: true });
    await mkdir(path.join(root, "workspaces", "agent-2"), { recursive: true });
    await expect(assertNoLinksIn(path.join(root, "workspaces", "agent-1"))).resolves.toBeUndefined();
    await expect(assertNoLinksIn(path.join(root, "workspaces", "agent-1", "new", "dir"))).resolves.toBeUndefined();
    await symlink(path.join(root, "workspaces", "agent-2"), path.join(root, "workspaces", "agent-1", "escape"));
    await expect(assertNoLinksIn(path.join(root, "workspaces", "agent-1", "escape"))).rejects.toBeInstanceOf(WorkspaceRefusedError);
    await expect(assertNoLinksIn(path.join(root, "workspaces", "agent-1", "escape", "deeper"))).rejects.toThrow(/symbolic link/);
  });
});
