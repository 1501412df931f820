import type { V1Pod } from "@kubernetes/client-node";
import type { PodOutcome } from "./agent.ts";
import type { JobTracker } from "./job-tracker.ts";
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
 * The exit-code file is read when the watch reports a change of the Job or its pod (the container ending is one),
 * and this often besides, in case the watch is late or down: a fast timer per run was most of the runtime's CPU.
 */
const EXIT_FILE_FALLBACK_MS = 1_000;

export function podIsTerminal(pod: V1Pod | undefined): boolean {
  return pod?.status?.phase === "Succeeded" || pod?.status?.phase === "Failed";
}

/**
 * The exit-code file's code, or null. The agent can write that directory too: a file it made unreadable
 * (a link, a FIFO, garbage) counts as absent, and the container's own terminated state decides instead.
 */
async function agentExitCode(exitCodeFile: string): Promise<number | null> {
  return readExitCodeFile(exitCodeFile).catch((error: unknown) => {
    if (error instanceof UnsafeFileError) return null;
    throw error;
  });
}

/** True once the agent's exit code is in its file: proof the container ran, whatever the watch says. */
export async function agentHasExited(exitCodeFile: string): Promise<boolean> {
  return (await agentExitCode(exitCodeFile)) !== null;
}

export async function awaitCompletion(tracker: JobTracker, exitCodeFile: string, cancel: AbortSignal): Promise<Completion> {
  for (;;) {
    if (cancel.aborted) return { kind: "cancelled" };
    // Checked before the exit-code file: deleting the Job kills the agent, which then writes its code.
    if (tracker.jobGone()) return { kind: "job-gone" };
    const exitCode = await agentExitCode(exitCodeFile);
    if (exitCode !== null) return { kind: "exited", exitCode };
    if (tracker.terminalCondition() || podIsTerminal(tracker.pod()) || tracker.podGone()) return { kind: "terminal" };
    await tracker.nextChange(EXIT_FILE_FALLBACK_MS, cancel);
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
  stderrTail: string,
): Promise<PodOutcome> {
  const exitCodeFromFile = completion.kind === "exited" ? completion.exitCode : await agentExitCode(exitCodeFile);
  const final =
    exitCodeFromFile === null ? await awaitPublishedTermination(tracker, containerName) : { pod: tracker.pod(), statusPublished: true };
  const termination = describeTermination({
    ...(final.pod ? { pod: final.pod } : {}),
    containerName,
    exitCodeFromFile,
    podGone: tracker.podGone(),
    statusPublished: final.statusPublished,
  });
  return { ...termination, stderrTail };
}
