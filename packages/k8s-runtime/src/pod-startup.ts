import type { CoreV1Event } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import type { RuntimeStatusSink } from "@paperclipai/adapter-utils/runtime-progress";
import type { ErrorCode } from "./errors.ts";
import type { JobTracker } from "./job-tracker.ts";
import type { RunLog } from "./run-log.ts";
import { describePodState, diagnosePodStartup, diagnoseStartupEvents, formatWarningEvent } from "./startup-diagnosis.ts";

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
 * A start slower than this makes the run read Warning events, then at most once per `EVENT_PROBE_INTERVAL_MS`: the
 * Job's while it has no pod (a pod refused by admission shows nowhere else), the pod's once it has one (a volume that
 * cannot attach shows nowhere else, and is judged only after `VOLUME_ATTACH_GRACE_MS`). A pod's start often takes
 * seconds (an image pull, a busy node): reading its events that early would cost a request for nothing. A start
 * faster than these costs no request.
 */
const JOB_EVENTS_PROBE_AFTER_MS = 3_000;
const POD_EVENTS_PROBE_AFTER_MS = 10_000;
const EVENT_PROBE_INTERVAL_MS = 5_000;
/** A volume attach still failing after this long (Multi-Attach) ends the start. */
const VOLUME_ATTACH_GRACE_MS = 30_000;

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
  jobName: string;
  jobCreatedAt: number;
  limits: StartupLimits;
  log: RunLog;
  onRuntimeProgress?: RuntimeStatusSink;
  cancel: AbortSignal;
  /** True once the agent's exit code has been written (a file check, no request). */
  agentExited: () => Promise<boolean>;
  /** Warning events about one object (the pod, or the Job), by name. */
  warningEvents: (objectName: string) => Promise<CoreV1Event[]>;
}): Promise<StartupOutcome> {
  const { tracker, log, cancel } = input;
  const firstSeen = new Map<string, number>();
  const eventsFirstSeen = new Map<string, number>();
  let lastEventProbe = 0;
  /** Posts each new Warning event once, and says whether they end the start. */
  const probeEvents = async (objectName: string) => {
    const events = await input.warningEvents(objectName).catch(() => []);
    for (const event of events) {
      const line = formatWarningEvent(event);
      if (line) await log.once(`event:${line}`, line);
    }
    return diagnoseStartupEvents(events, { now: Date.now(), volumeAttachGraceMs: VOLUME_ATTACH_GRACE_MS, firstSeen: eventsFirstSeen });
  };
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
      if (podName) await probeEvents(podName);
      return diagnosis;
    }
    const now = Date.now();
    const probeAfterMs = pod ? POD_EVENTS_PROBE_AFTER_MS : JOB_EVENTS_PROBE_AFTER_MS;
    if (now - input.jobCreatedAt >= probeAfterMs && now - lastEventProbe >= EVENT_PROBE_INTERVAL_MS) {
      lastEventProbe = now;
      const ended = await probeEvents(pod?.metadata?.name ?? input.jobName);
      if (ended?.kind === "failed") return ended;
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
