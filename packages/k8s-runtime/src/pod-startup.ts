import type { CoreV1Event } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import type { RuntimeStatusSink } from "@paperclipai/adapter-utils/runtime-progress";
import type { ErrorCode } from "./errors.ts";
import type { JobTracker } from "./job-tracker.ts";
import type { RunLog } from "./run-log.ts";
import { describePodState, diagnosePodStartup, formatWarningEvent } from "./startup-diagnosis.ts";

/** Step 8: how waiting for the agent's container to start ended. */
export type StartupOutcome =
  | { kind: "started" }
  /** The container already ran and ended, or the Job finished: completion takes over. */
  | { kind: "ended" }
  | { kind: "failed"; code: ErrorCode; reason: string; message: string; permanent: boolean }
  | { kind: "job-gone" }
  | { kind: "cancelled" };

export interface StartupLimits {
  scheduleTimeoutMs: number;
  startupTimeoutMs: number;
  imagePullGraceMs: number;
}

/** Re-evaluates at least this often so timeouts fire without an event. */
const RECHECK_MS = 1_000;

/**
 * Waits for the Job's pod to run the agent, from the shared watch's cache, or until the agent's exit
 * code is in the run directory (evidence that needs no watch: a silent watch must not hold a finished
 * run here). Posts each pod state change to the run log once, and as `adapter_startup` progress where
 * Paperclip takes it; on a start-up failure, surfaces the pod's Warning events (one request, only
 * then) and fails fast with the Kubernetes reason and message.
 */
export async function awaitPodStart(input: {
  tracker: JobTracker;
  containerName: string;
  jobCreatedAt: number;
  limits: StartupLimits;
  log: RunLog;
  onRuntimeProgress?: RuntimeStatusSink;
  cancel: AbortSignal;
  /** True once the agent's exit code has been written (a file check, no request). */
  agentExited: () => Promise<boolean>;
  warningEvents: (podName: string) => Promise<CoreV1Event[]>;
}): Promise<StartupOutcome> {
  const { tracker, log, cancel } = input;
  const firstSeen = new Map<string, number>();
  for (;;) {
    if (cancel.aborted) return { kind: "cancelled" };
    if (tracker.jobGone()) return { kind: "job-gone" };
    const pod = tracker.pod();
    if (pod) {
      const state = describePodState(pod);
      if (await log.once("pod-state", state)) await reportProgress(input.onRuntimeProgress, state);
    }
    if (tracker.terminalCondition() || (await input.agentExited())) return { kind: "ended" };
    const diagnosis = diagnosePodStartup(pod, {
      containerName: input.containerName,
      now: Date.now(),
      jobCreatedAt: input.jobCreatedAt,
      ...input.limits,
      firstSeen,
    });
    if (diagnosis.kind === "running") return { kind: "started" };
    if (diagnosis.kind === "terminated") return { kind: "ended" };
    if (diagnosis.kind === "failed") {
      const podName = pod?.metadata?.name;
      if (podName) {
        const events = await input.warningEvents(podName).catch(() => []);
        for (const event of events) {
          const line = formatWarningEvent(event);
          if (line) await log.once(`event:${line}`, line);
        }
      }
      return diagnosis;
    }
    await tracker.nextChange(RECHECK_MS, cancel);
  }
}

/** Progress is advisory: a sink that fails must not fail the run. */
async function reportProgress(sink: RuntimeStatusSink | undefined, message: string): Promise<void> {
  try {
    await sink?.({ phase: "adapter_startup", message });
  } catch {
    // The run log already carries the same line.
  }
}

/** The Warning events of a pod: one request, made only when the pod failed to start. */
export async function listWarningEvents(cluster: ClusterAccess, namespace: string, podName: string): Promise<CoreV1Event[]> {
  const events = await cluster.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${podName},type=Warning` });
  return events.items;
}
