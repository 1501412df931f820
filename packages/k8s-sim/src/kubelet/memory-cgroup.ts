import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** One container's memory cgroup: its limit, its processes, and whether the kernel OOM-killed any. */
export interface ContainerCgroup {
  /** Write a pid here to move that process into the group. */
  readonly procsFile: string;
  oomKilled(): boolean;
  remove(): Promise<void>;
}

type Version = "v1" | "v2";

function ownCgroupPath(version: Version): string | undefined {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, hierarchy, controllers = "", cgroupPath] = match;
    if (version === "v2" && hierarchy === "0" && controllers === "") return cgroupPath;
    if (version === "v1" && controllers.split(",").includes("memory")) return cgroupPath;
  }
  return undefined;
}

/** Finds where this process's memory cgroup lives on the host: cgroup v2 if it delegates memory, else v1. */
function locateParent(): { version: Version; dir: string } | undefined {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  for (const version of ["v2", "v1"] as const) {
    for (const line of mounts) {
      const [left, right] = line.split(" - ");
      if (!left || !right) continue;
      const fields = left.split(" ");
      const [fsType, , superOptions = ""] = right.split(" ");
      const mountRoot = fields[3] ?? "/";
      const mountPoint = fields[4];
      if (!mountPoint) continue;
      const isMatch =
        version === "v2" ? fsType === "cgroup2" : fsType === "cgroup" && superOptions.split(",").includes("memory");
      if (!isMatch) continue;
      const own = ownCgroupPath(version);
      if (own === undefined) continue;
      const relative = mountRoot === "/" ? own : path.relative(mountRoot, own);
      const dir = path.join(mountPoint, relative);
      if (version === "v2" && !readFileSync(path.join(dir, "cgroup.controllers"), "utf8").split(/\s+/).includes("memory")) continue;
      return { version, dir };
    }
  }
  return undefined;
}

function readCounter(file: string, name: string): number {
  try {
    const line = readFileSync(file, "utf8").split("\n").find((entry) => entry.startsWith(`${name} `));
    return line ? Number(line.split(" ")[1]) : 0;
  } catch {
    return 0;
  }
}

function pidsIn(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs every process in a cgroup (including ones that left their process group). */
export function killCgroupProcesses(procsFile: string): void {
  for (const pid of pidsIn(procsFile)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Memory cgroups for containers, under a group of this kubelet's own inside the cgroup the sim
 * runs in. `create()` returns undefined when the host does not let us (no controller, read-only
 * cgroupfs): then memory limits are not enforced and OOM is only the injected fault.
 */
export class MemoryCgroups {
  private readonly version: Version;
  private readonly baseDir: string;

  private constructor(version: Version, baseDir: string) {
    this.version = version;
    this.baseDir = baseDir;
  }

  static open(name: string): MemoryCgroups | undefined {
    try {
      const parent = locateParent();
      if (!parent) return undefined;
      const baseDir = path.join(parent.dir, name);
      mkdirSync(baseDir);
      if (parent.version === "v2") writeFileSync(path.join(baseDir, "cgroup.subtree_control"), "+memory");
      return new MemoryCgroups(parent.version, baseDir);
    } catch {
      return undefined;
    }
  }

  /** Off the event loop: cgroupfs writes are slow when hundreds of containers start at once. */
  async create(name: string, limitBytes: number | undefined): Promise<ContainerCgroup | undefined> {
    const dir = path.join(this.baseDir, name);
    try {
      await mkdir(dir);
      if (limitBytes !== undefined) {
        await writeFile(path.join(dir, this.version === "v2" ? "memory.max" : "memory.limit_in_bytes"), String(limitBytes));
        if (this.version === "v2") await writeFile(path.join(dir, "memory.swap.max"), "0");
      }
    } catch {
      return undefined;
    }
    const procsFile = path.join(dir, "cgroup.procs");
    const eventsFile = path.join(dir, this.version === "v2" ? "memory.events" : "memory.oom_control");
    return {
      procsFile,
      oomKilled: () => readCounter(eventsFile, "oom_kill") > 0,
      remove: () => removeGroup(dir, procsFile),
    };
  }

  /** Removes the kubelet's own group; container groups must be removed first. */
  async close(): Promise<void> {
    await removeGroup(this.baseDir, path.join(this.baseDir, "cgroup.procs"));
  }
}

async function removeGroup(dir: string, procsFile: string): Promise<void> {
  // A group is removable once its last process is reaped, which can trail the exit by a moment.
  for (let attempt = 0; attempt < 50 && existsSync(dir); attempt++) {
    killCgroupProcesses(procsFile);
    try {
      rmdirSync(dir);
      return;
    } catch {
      await sleep(20);
    }
  }
}
