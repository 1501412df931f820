/**
 * The kubelet's container launcher, in its own process (started by `container-launcher.ts`): it spawns each
 * container, writes its output to the container's CRI log file and reports its start and its end. Spawning
 * blocks the spawning process's event loop until the child has exec'ed (long on a loaded machine), so it
 * happens here and not in the sim's process, whose API server must keep answering during a start-up storm.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import type { LaunchReport, LaunchRequest } from "./launcher-protocol.ts";
import { ContainerLogWriter } from "./log-writer.ts";
import { killCgroupProcesses } from "./memory-cgroup.ts";

const RUNTIME_ERROR_PREFIX =
  "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ";
/** A straggler we could not kill must not hold the container open forever. */
const OUTPUT_DRAIN_LIMIT_MS = 2000;

/** Process groups of the containers still running: killed if the kubelet goes away. */
const running = new Set<number>();

function report(message: LaunchReport): void {
  // After the kubelet's process is gone there is no one to tell (the "disconnect" handler is about to run).
  if (process.connected) process.send?.(message);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is empty
  }
}

function drained(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) resolve();
    stream.once("close", resolve);
  });
}

function launch(request: LaunchRequest): void {
  const { id } = request;
  let log: ContainerLogWriter;
  try {
    log = new ContainerLogWriter(request.logFile);
  } catch (error) {
    report({ id, spawnFailed: `cannot open the container log ${request.logFile}: ${error instanceof Error ? error.message : String(error)}` });
    return;
  }
  const child = spawn(request.command, request.args, { env: request.env, detached: true, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const [, stdout, stderr, setupChannel] = child.stdio;
  if (!child.pid || !stdout || !stderr || !setupChannel || !("read" in setupChannel)) {
    // A failed spawn reports why in an "error" event, after this call.
    child.once("error", (error) => report({ id, spawnFailed: `could not start the container process: ${error.message}` }));
    child.kill("SIGKILL");
    log.close();
    return;
  }
  child.once("error", () => undefined); // a failed kill after the exit: nothing to report
  const pid = child.pid;
  running.add(pid);
  report({ id, spawned: pid });
  stdout.on("data", (chunk: Buffer) => log.write("stdout", chunk));
  stderr.on("data", (chunk: Buffer) => log.write("stderr", chunk));

  const setupMessages: Buffer[] = [];
  setupChannel.on("data", (chunk: Buffer) => setupMessages.push(chunk));
  const setupDone = drained(setupChannel);
  void setupDone.then(() => report({ id, started: setupMessages.length === 0 }));

  child.once("exit", (code, signal) => {
    running.delete(pid);
    // The container ends with its main process: take down anything it left behind.
    killGroup(pid, "SIGKILL");
    if (request.cgroupProcsFile) killCgroupProcesses(request.cgroupProcsFile);
    const giveUp = setTimeout(() => {
      stdout.destroy();
      stderr.destroy();
      setupChannel.destroy();
    }, OUTPUT_DRAIN_LIMIT_MS);
    void Promise.all([drained(stdout), drained(stderr), setupDone]).then(() => {
      clearTimeout(giveUp);
      log.close();
      const setupError = Buffer.concat(setupMessages).toString("utf8");
      const outputTail = log.tail();
      if (setupError) report({ id, exited: { exitCode: 128, startError: `${RUNTIME_ERROR_PREFIX}${setupError}: unknown` }, outputTail });
      else if (signal) report({ id, exited: { exitCode: 128 + constants.signals[signal], signal: constants.signals[signal] }, outputTail });
      else report({ id, exited: { exitCode: code ?? 0 }, outputTail });
    });
  });
}

// One spawn per turn of the event loop: a burst of requests must not hold back the start and exit reports of
// the containers already launched (each spawn blocks this loop until its child has exec'ed).
const queue: LaunchRequest[] = [];
let draining = false;

function launchNext(): void {
  const request = queue.shift();
  if (!request) {
    draining = false;
    return;
  }
  launch(request);
  setImmediate(launchNext);
}

process.on("message", (request: LaunchRequest) => {
  queue.push(request);
  if (draining) return;
  draining = true;
  setImmediate(launchNext);
});
// The kubelet's process is gone: nothing may keep its containers running.
process.on("disconnect", () => {
  for (const pid of running) killGroup(pid, "SIGKILL");
  process.exit(0);
});
