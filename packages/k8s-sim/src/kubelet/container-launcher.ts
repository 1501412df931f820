/**
 * The kubelet's side of the container launcher process (`container-launcher-process.ts`): one launcher per sim
 * process, started with the first container, shared by every kubelet in it, and holding the process open only
 * while containers run.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ExitStatus, LaunchReport, LaunchRequest } from "./launcher-protocol.ts";

export interface ContainerExit extends ExitStatus {
  /** The last lines of the container's output: the kubelet's fallback termination message. */
  outputTail: string;
}

export interface LaunchedContainer {
  /** The main process, leader of the container's process group. */
  pid: number;
  /** Resolves true once the command itself runs, false when set-up failed. */
  started: Promise<boolean>;
  exited: Promise<ContainerExit>;
}

interface Pending {
  spawned: { resolve: (pid: number) => void; reject: (error: Error) => void };
  started: (ran: boolean) => void;
  exited: { resolve: (exit: ContainerExit) => void; reject: (error: Error) => void };
}

// The launcher is this module's sibling, .ts when the sim runs from source and .js when built.
const LAUNCHER_SCRIPT = fileURLToPath(new URL(`./container-launcher-process${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

function isReport(value: unknown): value is LaunchReport {
  return typeof value === "object" && value !== null && "id" in value && typeof value.id === "number";
}

class ContainerLauncher {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  launch(request: Omit<LaunchRequest, "id">): Promise<LaunchedContainer> {
    const id = this.nextId++;
    const child = this.running();
    return new Promise<LaunchedContainer>((resolveSpawned, rejectSpawned) => {
      let started!: (ran: boolean) => void;
      const startedPromise = new Promise<boolean>((resolve) => (started = resolve));
      let exited!: Pending["exited"];
      const exitedPromise = new Promise<ContainerExit>((resolve, reject) => (exited = { resolve, reject }));
      // A container that fails to launch has no exit to wait for; its promise must not count as unhandled.
      exitedPromise.catch(() => undefined);
      const spawned = { resolve: (pid: number) => resolveSpawned({ pid, started: startedPromise, exited: exitedPromise }), reject: rejectSpawned };
      this.pending.set(id, { spawned, started, exited });
      this.holdOpen(true);
      child.send({ ...request, id });
    });
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  private running(): ChildProcess {
    if (this.child) return this.child;
    // No inherited flags (a profiler, a loader): the launcher needs only Node itself.
    const child = fork(LAUNCHER_SCRIPT, [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.on("message", (message: unknown) => {
      if (isReport(message)) this.onReport(message);
    });
    child.once("exit", (code, signal) => {
      this.child = undefined;
      const error = new Error(`the container launcher process ended (${signal ?? `exit ${code}`})`);
      for (const pending of this.pending.values()) {
        pending.spawned.reject(error);
        pending.exited.reject(error);
      }
      this.pending.clear();
    });
    this.child = child;
    return child;
  }

  private onReport(report: LaunchReport): void {
    const pending = this.pending.get(report.id);
    if (!pending) return;
    if ("spawned" in report) pending.spawned.resolve(report.spawned);
    else if ("started" in report) pending.started(report.started);
    else if ("spawnFailed" in report) this.settle(report.id, () => pending.spawned.reject(new Error(report.spawnFailed)));
    else this.settle(report.id, () => pending.exited.resolve({ ...report.exited, outputTail: report.outputTail }));
  }

  private settle(id: number, done: () => void): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.holdOpen(false);
    done();
  }

  /** The launcher keeps this process alive only while it runs containers for it. */
  private holdOpen(hold: boolean): void {
    const child = this.child;
    if (!child) return;
    if (hold) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}

const launcher = new ContainerLauncher();

/** The launcher process's pid while it runs (the bench reads its CPU, and its containers', from /proc). */
export function containerLauncherPid(): number | undefined {
  return launcher.pid();
}

/** Starts a container through this process's launcher; rejects when it could not be spawned. */
export function launchContainer(request: Omit<LaunchRequest, "id">): Promise<LaunchedContainer> {
  return launcher.launch(request);
}
