/**
 * What of the shared volume an agent pod sees (steps 5–6): its run's `input/` (read-only) and `output/`,
 * its HOME, and its working directory, each a `subPath` mount at the same absolute path as on the server.
 * Nothing else: not Paperclip's instance files (master key, database, config), not another agent's runs,
 * homes or workspaces. The working directory is the one mount whose path comes from outside the runtime
 * (Paperclip's workspace, or the agent's `cwd` config, which agents can write), so it is held to a policy.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import type { RunDirectory } from "./run-directory.ts";
import { isWithin, type SharedVolume } from "./self-pod.ts";

/** Server environment variable: extra directories on the shared volume, outside the instance root, that may be agents' working directories. */
export const WORKSPACE_ROOTS_ENV = "PAPERCLIP_K8S_WORKSPACE_ROOTS";

/** One mount of the shared claim into the agent container. */
export interface ClaimMount {
  /** Path inside the claim. */
  subPath: string;
  /** Absolute path in the container: the same as on the server. */
  mountPath: string;
  readOnly: boolean;
}

/** The agent's working directory may not be mounted into its pod; the message says why. */
export class WorkspaceRefusedError extends Error {
  readonly cwd: string;
  constructor(cwd: string, reason: string) {
    super(`working directory ${cwd} ${reason}`);
    this.name = "WorkspaceRefusedError";
    this.cwd = cwd;
  }
}

export interface WorkspaceOwner {
  instanceRoot: string;
  companyId: string;
  agentId: string;
  /** The agent's HOME (`agentHomeFor`). */
  home: string;
}

/**
 * The directories of Paperclip's instance root that belong to this agent (Paperclip 2026.916.1's layout:
 * `workspaces/<agentId>`, `projects/<companyId>/<project>/<repo>`, `chat-workspaces/<companyId>/<agentId>/…`)
 * and its HOME. A project checkout is shared by the company's agents that work on the project, by
 * Paperclip's design; nothing here is shared across companies.
 */
function ownWorkspaceRoots(owner: WorkspaceOwner): { root: string; minDepth: number }[] {
  const { instanceRoot, companyId, agentId } = owner;
  return [
    { root: path.join(instanceRoot, "workspaces", agentId), minDepth: 0 },
    { root: path.join(instanceRoot, "projects", companyId), minDepth: 2 },
    { root: path.join(instanceRoot, "chat-workspaces", companyId, agentId), minDepth: 0 },
    { root: owner.home, minDepth: 0 },
  ];
}

/** Extra roots an operator allows by server environment (never by agent config): absolute paths, `:`-separated. */
export function operatorWorkspaceRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[WORKSPACE_ROOTS_ENV] ?? "")
    .split(":")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "" && path.isAbsolute(entry))
    .map((entry) => path.resolve(entry));
}

/**
 * Why `cwd` may not be mounted into this agent's pod, or null when it may. Only paths on the shared volume
 * are judged: a directory elsewhere exists only inside the pod.
 */
export function workspaceProblem(cwd: string, volume: SharedVolume, owner: WorkspaceOwner, operatorRoots: readonly string[]): string | null {
  const resolved = path.resolve(cwd);
  if (!isWithin(volume.mountPath, resolved)) return null;
  if (isWithin(resolved, owner.instanceRoot)) return "contains Paperclip's instance root; an agent may not mount it";
  if (isWithin(owner.instanceRoot, resolved)) {
    const allowed = ownWorkspaceRoots(owner).some(({ root, minDepth }) => {
      if (!isWithin(root, resolved)) return false;
      const depth = path.relative(root, resolved).split(path.sep).filter(Boolean).length;
      return depth >= minDepth;
    });
    return allowed
      ? null
      : "is inside Paperclip's instance root but not one of this agent's workspaces (workspaces/<agentId>, projects/<companyId>/<project>/…, chat-workspaces/<companyId>/<agentId>, or its home)";
  }
  if (operatorRoots.some((root) => isWithin(root, resolved) && resolved !== root)) return null;
  return `is on the shared volume outside Paperclip's instance root; list its parent in the server's ${WORKSPACE_ROOTS_ENV} to allow it`;
}

/**
 * Refuses a working directory reached through a symbolic link: the kubelet follows links inside a `subPath`,
 * so a link an agent left in its workspace could point a later mount at another agent's files. Checks the
 * longest existing prefix of `cwd` (the rest is created by the server, without links).
 */
export async function assertNoLinksIn(cwd: string): Promise<void> {
  let existing = path.resolve(cwd);
  for (;;) {
    const real = await realpath(existing).catch((error: unknown) => {
      if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
      throw error;
    });
    if (real !== null) {
      if (real !== existing) throw new WorkspaceRefusedError(cwd, `goes through a symbolic link (${existing} is really ${real})`);
      return;
    }
    const parent = path.dirname(existing);
    if (parent === existing) return;
    existing = parent;
  }
}

/** The path of `serverPath` inside the claim, given how the server mounts it; null when not on the volume. */
export function claimPathOf(volume: SharedVolume, serverPath: string): string | null {
  if (!isWithin(volume.mountPath, serverPath)) return null;
  const relative = path.relative(volume.mountPath, path.resolve(serverPath));
  return path.posix.join(volume.subPath ?? "", ...relative.split(path.sep)) || ".";
}

/**
 * The pod's mounts of the shared claim, parents first. `cwd` is mounted read-write when it lies on the
 * volume and not already inside HOME; its policy is checked by the caller (`workspaceProblem`). With
 * `skillsMountPath` (an agent that reads skills only from its home), the run's `input/skills/` is mounted
 * there too, read-only, over whatever the agent's HOME holds at that path.
 */
export function agentClaimMounts(volume: SharedVolume, run: RunDirectory, cwd: string, skillsMountPath: string | null = null): ClaimMount[] {
  const mount = (serverPath: string, readOnly: boolean, mountPath = serverPath): ClaimMount => {
    const subPath = claimPathOf(volume, serverPath);
    if (subPath === null) throw new Error(`${serverPath} is not on the shared volume mounted at ${volume.mountPath}`);
    return { subPath, mountPath, readOnly };
  };
  const mounts = [mount(run.input, true), mount(run.output, false), mount(run.home, false)];
  if (isWithin(volume.mountPath, cwd) && !isWithin(run.home, cwd)) mounts.push(mount(path.resolve(cwd), false));
  if (skillsMountPath !== null) mounts.push(mount(run.skills, true, skillsMountPath));
  return mounts.sort((a, b) => a.mountPath.length - b.mountPath.length);
}
