import path from "node:path";
import type { ContainerExit } from "./container-launcher.ts";
import { launchContainer } from "./container-launcher.ts";
import type { BindMount } from "./volumes.ts";

export type { ExitStatus } from "./launcher-protocol.ts";
export type { ContainerExit } from "./container-launcher.ts";

/** PATH entries after the image's own directories: the host's usual system directories. */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface LaunchSpec {
  /** Command and arguments, already expanded. */
  argv: readonly string[];
  /** The complete environment of the process (nothing is inherited). */
  env: ReadonlyMap<string, string>;
  workingDir?: string;
  /** Host directories standing in for the image; the n-th is seen at `imageDirInContainer(n)`. */
  imageDirs: readonly string[];
  /** In any order: they are mounted parents first. */
  mounts: readonly BindMount[];
  uid: number;
  gid: number;
  /** Joined before anything else runs, so the memory limit covers the whole container; what is left in it at the end is killed. */
  cgroupProcsFile?: string;
  /** The container's CRI log file: its stdout and stderr go there. */
  logFile: string;
}

/**
 * Where each container's namespace keeps its private runtime files: the kubelet creates this empty
 * directory on the host once and leaves it there (a shared, empty mount point; containers of other
 * kubelets may be using it). Inside a container it holds a private tmpfs with the image directories.
 */
export const CONTAINER_RUNTIME_DIR = "/run/k8s-sim";

/** Where the container sees its image's n-th directory (they go first on its PATH). */
export function imageDirInContainer(index: number): string {
  return `${CONTAINER_RUNTIME_DIR}/image/${index}`;
}

/**
 * Runs in the new mount namespace, as root, before the command: join the cgroup, then mount as a
 * container runtime would. Every source (volumes, image directories) is first bind-mounted into a
 * private staging tmpfs, which the script then works in: a mount may cover the host path of a
 * later source (an emptyDir at /tmp hides everything under /tmp), but not the working directory,
 * so sources are named relative to it, and mount(8) must not canonicalize them (-c). Targets come
 * parents first, so a mount point below an earlier volume is created inside that volume. Then the
 * image directories go to their fixed paths, the staging area is detached, the working directory
 * entered, the command checked, and the script drops to the container's user with a clean
 * environment. Failures go to fd 3 and exit 128; fd 3 closing without a message means the
 * command is now running.
 * Arguments: procsFile runtimeDir imageCount imageDir... mountCount {source target ro|rw}...
 *   uid gid dir lookupPath cmd K=V... cmd args...
 */
const SETUP_SCRIPT = `
fail() { printf '%s' "$1" >&3; exit 128; }
if [ -n "$1" ]; then printf '%s\\n' "$$" > "$1" || fail "cannot join memory cgroup $1"; fi
runtime=$2 images=$3
shift 3
{ mount -c -t tmpfs -o mode=755 k8s-sim "$runtime" && mkdir "$runtime/stage" &&
  mount -c -t tmpfs -o mode=700 k8s-sim-stage "$runtime/stage"; } 2>&3 && cd "$runtime/stage" ||
  fail "cannot set up the mount staging area in $runtime"
n=0
while [ "$n" -lt "$images" ]; do
  { mkdir "i$n" && mount -c --bind "$1" "i$n"; } 2>&3 || fail "cannot mount image directory $1"
  shift
  n=$((n + 1))
done
count=$1
shift
i=0 k=0
for arg do
  [ "$k" -lt $((count * 3)) ] || break
  case $((k % 3)) in
    0) source=$arg ;;
    1) if [ -d "$source" ]; then mkdir "v$i"; else : > "v$i"; fi
       mount -c --bind "$source" "v$i" 2>&3 || fail "error mounting \\"$source\\" to rootfs at \\"$arg\\""
       i=$((i + 1)) ;;
  esac
  k=$((k + 1))
done
i=0
while [ "$i" -lt "$count" ]; do
  if [ -d "v$i" ]; then mkdir -p "$2" 2>&3 || fail "cannot create mount point $2"
  else { mkdir -p "$(dirname "$2")" && { [ -e "$2" ] || : > "$2"; }; } 2>&3 || fail "cannot create mount point $2"; fi
  mount -c --bind "v$i" "$2" 2>&3 || fail "error mounting \\"$1\\" to rootfs at \\"$2\\""
  if [ "$3" = ro ]; then mount -c -o remount,bind,ro "$2" 2>&3 || fail "cannot make $2 read-only"; fi
  shift 3
  i=$((i + 1))
done
n=0
while [ "$n" -lt "$images" ]; do
  target="$runtime/image/$n"
  { mkdir -p "$target" && mount -c --bind "i$n" "$target" && mount -c -o remount,bind,ro "$target"; } 2>&3 ||
    fail "cannot mount image directory at $target"
  n=$((n + 1))
done
umount -c -l . 2>&3 || fail "cannot detach the mount staging area"
uid=$1 gid=$2 dir=$3 lookup=$4 cmd=$5
shift 5
cd / && mkdir -p "$dir" 2>&3 && cd "$dir" || fail "chdir to cwd (\\"$dir\\") set in config.json failed"
case $cmd in
  */*) [ -f "$cmd" ] && [ -x "$cmd" ] || fail "exec: \\"$cmd\\": stat $cmd: no such file or directory" ;;
  *) found=
     IFS=:
     for d in $lookup; do if [ -f "$d/$cmd" ] && [ -x "$d/$cmd" ]; then found=1; break; fi; done
     unset IFS
     [ -n "$found" ] || fail "exec: \\"$cmd\\": executable file not found in \\$PATH" ;;
esac
exec 3>&-
exec /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups -- /usr/bin/env -i "$@"
`;

function pathDepth(target: string): number {
  return path.posix.normalize(target).split("/").filter((part) => part !== "").length;
}

/** Mount order as runc has it: shallower targets first (stable otherwise), so parents never cover children. */
function parentsFirst(mounts: readonly BindMount[]): BindMount[] {
  return [...mounts].sort((a, b) => pathDepth(a.target) - pathDepth(b.target));
}

/**
 * A container's main process, in its own private mount namespace and its own process group
 * (so the whole container can be killed at once), spawned by the container launcher process.
 */
export class ContainerProcess {
  readonly pid: number;
  /** Resolves true once the command itself runs, false when set-up failed. */
  readonly started: Promise<boolean>;
  readonly exited: Promise<ContainerExit>;

  private constructor(pid: number, started: Promise<boolean>, exited: Promise<ContainerExit>) {
    this.pid = pid;
    this.started = started;
    this.exited = exited;
  }

  /** Resolves once the process exists; rejects when it could not be started at all. */
  static async launch(spec: LaunchSpec): Promise<ContainerProcess> {
    const [command] = spec.argv;
    if (command === undefined || command === "") throw new Error("the container has no command to run (set command or args)");
    if (command.includes("=")) throw new Error(`the sim cannot run a command whose name contains "=": ${command}`);
    const lookupPath = spec.env.get("PATH") ?? HOST_PATH;
    const args = [spec.cgroupProcsFile ?? "", CONTAINER_RUNTIME_DIR, String(spec.imageDirs.length), ...spec.imageDirs];
    args.push(String(spec.mounts.length));
    for (const mount of parentsFirst(spec.mounts)) args.push(mount.source, mount.target, mount.readOnly ? "ro" : "rw");
    args.push(String(spec.uid), String(spec.gid), spec.workingDir ?? "/", lookupPath, command);
    for (const [name, value] of spec.env) args.push(`${name}=${value}`);
    args.push(...spec.argv);

    const { pid, started, exited } = await launchContainer({
      command: "/usr/bin/unshare",
      args: ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", SETUP_SCRIPT, "container-setup", ...args],
      env: { PATH: HOST_PATH },
      logFile: spec.logFile,
      cgroupProcsFile: spec.cgroupProcsFile,
    });
    return new ContainerProcess(pid, started, exited);
  }

  /** Signals the main process only, as the runtime does for a graceful stop. */
  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already exited
    }
  }

  /** Signals every process of the container's process group. */
  signalGroup(signal: NodeJS.Signals): void {
    killGroup(this.pid, signal);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is empty
  }
}
