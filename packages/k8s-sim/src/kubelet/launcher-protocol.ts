/** What the kubelet and its container launcher process (`container-launcher-process.ts`) say to each other over IPC. */

export interface ExitStatus {
  /** As a container runtime reports it: the exit code, or 128 + signal number. */
  exitCode: number;
  signal?: number;
  /** Set when the container never got to run its command (a runtime error, exit code 128). */
  startError?: string;
}

/** Start one container: spawn `command` in its own process group, its output to a CRI log file. */
export interface LaunchRequest {
  id: number;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The container's CRI log file (created with its directory). */
  logFile: string;
  /** The container's memory cgroup: whatever is left in it when the main process ends is killed too. */
  cgroupProcsFile?: string;
}

export type LaunchReport = { id: number } & (
  /** The process exists (its pid is its process group's id). */
  | { spawned: number }
  | { spawnFailed: string }
  /** True once the command itself runs; false when the set-up failed. */
  | { started: boolean }
  /** The container ended and its output is flushed; `outputTail` is the kubelet's fallback termination message. */
  | { exited: ExitStatus; outputTail: string }
);
