import { basename } from "node:path";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { PodOutcome } from "./agent.ts";
import type { FileCalls } from "./file-calls.ts";
import type { JobTracker } from "./job-tracker.ts";
import type { OutputDirectoryWatch, WatchTrust } from "./output-directory-watch.ts";
import { readExitCodeFile } from "./run-directory.ts";
import { UnsafeFileError } from "./safe-file.ts";
import { describeTermination } from "./terminated-state.ts";

/** Step 10: what ended the wait for the agent. */
export type Completion =
  /** The agent wrote its exit code: the most direct evidence, usually first. */
  | { kind: "exited"; exitCode: number }
  /** The watch reports the Job or its pod terminal (killed, deadline, evicted...). */
  | { kind: "terminal" }
  | { kind: "job-gone" }
  | { kind: "cancelled" };

/**
 * When the exit-code file is read. While the output directory's events are trusted (`OutputDirectoryWatch`: they
 * announced the output's growth), its appearance is an event (the wrapper renames it into place), and the file is
 * read on that event, on a watch change of the Job or its pod, and every few seconds in case an event was lost.
 * Otherwise (network storage: no events reach this node) it is polled: every 150 ms while the agent wrote output
 * in the last half second (an agent exits right after its last line, its result), and every second besides.
 */
const EXIT_FILE_CHECK_MS = 150;
const RECENT_OUTPUT_MS = 500;
const EXIT_FILE_FALLBACK_MS = 1_000;
const EXIT_FILE_TRUSTED_FALLBACK_MS = 5_000;

/** When the agent last wrote output; wakes the completion wait on new output. */
export class OutputActivity {
  #lastAt = Number.NEGATIVE_INFINITY;
  #wake: (() => void) | null = null;

  mark(): void {
    this.#lastAt = performance.now();
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  get msSinceLast(): number {
    return performance.now() - this.#lastAt;
  }

  /** Resolves on the next `mark`. One waiter at a time: a new call settles the previous one. */
  next(): Promise<void> {
    this.#wake?.();
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

/** Events naming the exit-code file: `next()` resolves at once for one that came since the last `clear()`. */
class FileEvents {
  #pending = false;
  #wake: (() => void) | null = null;

  fire(): void {
    this.#pending = true;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Forgets earlier events: call right before reading the file, which covers them. */
  clear(): void {
    this.#pending = false;
  }

  /** One waiter at a time: a new call settles the previous one. */
  next(): Promise<void> {
    this.#wake?.();
    this.#wake = null;
    if (this.#pending) return Promise.resolve();
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

export function podIsTerminal(pod: V1Pod | undefined): boolean {
  return pod?.status?.phase === "Succeeded" || pod?.status?.phase === "Failed";
}

/**
 * The exit-code file's code, or null. The agent can write that directory too: a file it made unreadable
 * (a link, a FIFO, garbage) counts as absent, and the container's own terminated state decides instead.
 */
async function agentExitCode(exitCodeFile: string, fileCalls: FileCalls): Promise<number | null> {
  return readExitCodeFile(exitCodeFile, fileCalls).catch((error: unknown) => {
    if (error instanceof UnsafeFileError) return null;
    throw error;
  });
}

/** True once the agent's exit code is in its file: proof the container ran, whatever the watch says. */
export async function agentHasExited(exitCodeFile: string, fileCalls: FileCalls): Promise<boolean> {
  return (await agentExitCode(exitCodeFile, fileCalls)) !== null;
}

export async function awaitCompletion(
  tracker: JobTracker,
  exitCodeFile: string,
  cancel: AbortSignal,
  output: OutputActivity,
  directoryWatch: OutputDirectoryWatch,
  fileCalls: FileCalls,
): Promise<Completion> {
  const exitFileEvents = new FileEvents();
  const unwatch = directoryWatch.on(basename(exitCodeFile), () => exitFileEvents.fire());
  try {
    for (;;) {
      if (cancel.aborted) return { kind: "cancelled" };
      // Checked before the exit-code file: deleting the Job kills the agent, which then writes its code.
      if (tracker.jobGone()) return { kind: "job-gone" };
      exitFileEvents.clear();
      const exitCode = await agentExitCode(exitCodeFile, fileCalls);
      if (exitCode !== null) return { kind: "exited", exitCode };
      if (tracker.terminalCondition() || podIsTerminal(tracker.pod()) || tracker.podGone()) return { kind: "terminal" };
      await untilNextLook(tracker, cancel, output, exitFileEvents, directoryWatch.trust);
    }
  } finally {
    unwatch();
  }
}

/** Waits until the exit-code file is worth reading again (see `EXIT_FILE_CHECK_MS`). */
async function untilNextLook(tracker: JobTracker, cancel: AbortSignal, output: OutputActivity, exitFileEvents: FileEvents, trust: WatchTrust): Promise<void> {
  if (!trust.trusted) {
    if (output.msSinceLast < RECENT_OUTPUT_MS) await tracker.nextChange(EXIT_FILE_CHECK_MS, cancel);
    else await Promise.race([tracker.nextChange(EXIT_FILE_FALLBACK_MS, cancel), output.next()]);
    return;
  }
  const look = Promise.race([tracker.nextChange(EXIT_FILE_TRUSTED_FALLBACK_MS, cancel), exitFileEvents.next()]).then(() => "look" as const);
  // New output while the events are trusted says nothing about the exit; it is only a moment to see whether they still are.
  while ((await Promise.race([look, output.next().then(() => "output" as const)])) === "output") {
    if (!trust.trusted) return;
  }
}

/** How long to wait for kubelet to publish the container's terminated state after the pod went terminal. */
const STATUS_PUBLISH_WAIT_MS = 5_000;

/**
 * The pod's final state for the result. The pod phase can turn terminal before kubelet publishes the
 * container's terminated state; wait briefly (on watch events, no requests) for it to appear.
 */
export async function awaitPublishedTermination(
  tracker: JobTracker,
  containerName: string,
): Promise<{ pod: V1Pod | undefined; statusPublished: boolean }> {
  const deadline = Date.now() + STATUS_PUBLISH_WAIT_MS;
  for (;;) {
    const pod = tracker.pod();
    const terminated = pod?.status?.containerStatuses?.find((status) => status.name === containerName)?.state?.terminated;
    if (terminated || !pod || tracker.podGone()) return { pod, statusPublished: terminated !== undefined };
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { pod, statusPublished: false };
    await tracker.nextChange(Math.min(remaining, 500));
  }
}

/**
 * How the agent's container ended, for the result: the exit-code file when the agent wrote one,
 * else the container's terminated state once kubelet publishes it.
 */
export async function podOutcome(
  tracker: JobTracker,
  containerName: string,
  completion: Exclude<Completion, { kind: "cancelled" }>,
  exitCodeFile: string,
  fileCalls: FileCalls,
  output: Pick<PodOutcome, "stderrTail" | "stdoutLines">,
): Promise<PodOutcome> {
  const exitCodeFromFile = completion.kind === "exited" ? completion.exitCode : await agentExitCode(exitCodeFile, fileCalls);
  const final =
    exitCodeFromFile === null ? await awaitPublishedTermination(tracker, containerName) : { pod: tracker.pod(), statusPublished: true };
  const termination = describeTermination({
    ...(final.pod ? { pod: final.pod } : {}),
    containerName,
    exitCodeFromFile,
    podGone: tracker.podGone(),
    statusPublished: final.statusPublished,
  });
  return { ...termination, ...output };
}

/** The Job, when the agent's pod has ended: deleted (by someone else), or there with the newest state we have. */
export type JobFate = { kind: "deleted" } | { kind: "present"; job: V1Job | undefined };

/**
 * The Job's fate, asked once the agent ended without a verdict of its own (`endedByKubernetes`). What ended the
 * pod may be the Job's: someone deleting it, or its deadline. The pod's end (its exit-code file, its watch
 * events) can reach us before the Job's change does, since the Jobs watch is another stream and may lag. The
 * cache answers when it already shows the Job deleted or failing; otherwise one read of the Job does
 * (`readJob`: null when there is none), so a run that ended on its own makes no extra request. A read that
 * fails is reported and leaves the cache's answer.
 */
export async function jobFate(
  tracker: JobTracker,
  readJob: () => Promise<V1Job | null>,
  onReadFailed: (error: unknown) => Promise<void>,
): Promise<JobFate> {
  if (tracker.jobGone()) return { kind: "deleted" };
  const cached = tracker.job();
  if (failureOf(cached) !== undefined) return { kind: "present", job: cached };
  let current: V1Job | null;
  try {
    current = await readJob();
  } catch (error) {
    await onReadFailed(error);
    return { kind: "present", job: cached };
  }
  if (current === null || current.metadata?.deletionTimestamp) return { kind: "deleted" };
  // Same name, another Job: ours was deleted and a new one made.
  const seenUid = cached?.metadata?.uid;
  if (seenUid !== undefined && current.metadata?.uid !== seenUid) return { kind: "deleted" };
  return { kind: "present", job: current };
}

/**
 * Why the Job failed or is failing: its `Failed` condition, or `FailureTarget`, which Kubernetes (1.31+) sets
 * before it stops the pods and turns into `Failed` once they are gone.
 */
export function failureOf(job: V1Job | undefined): { reason?: string } | undefined {
  return job?.status?.conditions?.find((condition) => (condition.type === "Failed" || condition.type === "FailureTarget") && condition.status === "True");
}

/** The agent did not end on its own: killed by a signal, its exit code unknown, or its pod being deleted. */
export function endedByKubernetes(outcome: Pick<PodOutcome, "signal" | "exitCode">, pod: V1Pod | undefined): boolean {
  return outcome.signal !== null || outcome.exitCode === null || pod?.metadata?.deletionTimestamp != null;
}
