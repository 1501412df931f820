/**
 * Start-up diagnosis (DESIGN §3.8): from the pod as the shared watch last saw it, decide whether the run
 * is still starting, running, already over, or failed to start, and describe the pod's state for the run
 * log. Pure: the only state is the caller's `firstSeen` map, and time comes in as `now`.
 */
import type { CoreV1Event, V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { ErrorCode } from "./errors.ts";

export interface StartupDiagnosisOptions {
  /** The agent's container in the pod. */
  containerName: string;
  /** The caller's clock, epoch ms. Kubernetes timestamps are never compared with it (clock skew). */
  now: number;
  /** When the Job was created, by the caller's clock: the schedule wait starts here. */
  jobCreatedAt: number;
  /** Give up when the pod is still not scheduled this long after the Job was created. `Infinity`: never. */
  scheduleTimeoutMs: number;
  /** Give up when the container is still not running this long after the pod was first seen scheduled. */
  startupTimeoutMs: number;
  /** `ErrImagePull`/`ImagePullBackOff` fail the run only once they have lasted this long. */
  imagePullGraceMs: number;
  /** `CreateContainerConfigError`/`CreateContainerError` fail the run once they have lasted this long; default 20 s. */
  configErrorGraceMs?: number;
  /**
   * `Unschedulable` fails the run once it has lasted this long; default 0 (fail fast). Clusters with a node
   * autoscaler need a grace: their pods are Unschedulable until the new node joins.
   */
  unschedulableGraceMs?: number;
  /**
   * When each condition was first seen, by the caller's clock. Keep one map per run and pass it on every
   * call: this function records new conditions in it and forgets the ones that cleared.
   */
  firstSeen: Map<string, number>;
}

export type StartupDiagnosis =
  | { kind: "pending"; detail: string }
  | { kind: "running" }
  /** The container has run and ended (or the pod succeeded): completion handling takes over. */
  | { kind: "terminated" }
  | {
      kind: "failed";
      code: ErrorCode;
      /** The Kubernetes reason (`Unschedulable`, `ErrImagePull`, …) or ours (`ScheduleTimeout`, `StartupTimeout`). */
      reason: string;
      message: string;
      /** The cause lies in the run's own spec (image name, missing Secret key): retrying unchanged fails the same way. */
      permanent: boolean;
    };

const DEFAULT_CONFIG_ERROR_GRACE_MS = 20_000;

/** Waiting reasons that fail at once: the image reference or pull policy can never work. */
const PERMANENT_IMAGE_REASONS = new Set(["InvalidImageName", "ErrImageNeverPull"]);
/** Waiting reasons of a pull that may still succeed (registry hiccup, rate limit, network). */
const TRANSIENT_IMAGE_REASONS = new Set(["ErrImagePull", "ImagePullBackOff"]);
/** Waiting reasons of a container the runtime could not create (missing Secret/ConfigMap or key, name clash). */
const CREATE_ERROR_REASONS = new Set(["CreateContainerConfigError", "CreateContainerError"]);
/** A terminated state that means the process never ran (exec failed), not that it ran and ended. */
const NEVER_STARTED_REASONS = new Set(["StartError", "ContainerCannotRun"]);

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** Records when each active condition was first seen and drops conditions no longer active. */
function conditionClock(firstSeen: Map<string, number>, now: number) {
  const active = new Set<string>();
  return {
    /** How long `key` has been active, marking it active now. */
    lastedFor(key: string): number {
      active.add(key);
      const since = firstSeen.get(key);
      if (since === undefined) {
        firstSeen.set(key, now);
        return 0;
      }
      return now - since;
    },
    forgetInactive(): void {
      for (const key of [...firstSeen.keys()]) if (!active.has(key)) firstSeen.delete(key);
    },
  };
}

function allContainerStatuses(pod: V1Pod): { status: V1ContainerStatus; init: boolean }[] {
  return [
    ...(pod.status?.initContainerStatuses ?? []).map((status) => ({ status, init: true })),
    ...(pod.status?.containerStatuses ?? []).map((status) => ({ status, init: false })),
  ];
}

function podName(pod: V1Pod): string {
  return pod.metadata?.name ?? "(unnamed)";
}

export function diagnosePodStartup(pod: V1Pod | undefined, options: StartupDiagnosisOptions): StartupDiagnosis {
  const clock = conditionClock(options.firstSeen, options.now);
  const diagnosis = diagnose(pod, options, clock);
  clock.forgetInactive();
  return diagnosis;
}

function diagnose(
  pod: V1Pod | undefined,
  options: StartupDiagnosisOptions,
  clock: ReturnType<typeof conditionClock>,
): StartupDiagnosis {
  const sinceJobCreated = options.now - options.jobCreatedAt;
  if (pod === undefined) {
    if (sinceJobCreated >= options.scheduleTimeoutMs) {
      return {
        kind: "failed",
        code: "k8s_pod_schedule_failed",
        reason: "ScheduleTimeout",
        message: `No pod was created for the Job within ${seconds(sinceJobCreated)}; the Job's events say why (ResourceQuota, admission webhooks, PodSecurity).`,
        permanent: false,
      };
    }
    return { kind: "pending", detail: "waiting for the Job controller to create the pod" };
  }

  const name = podName(pod);
  const agent = pod.status?.containerStatuses?.find((status) => status.name === options.containerName);
  const agentTerminated = agent?.state?.terminated;
  const phase = pod.status?.phase;

  if (agentTerminated !== undefined && !NEVER_STARTED_REASONS.has(agentTerminated.reason ?? "")) {
    return { kind: "terminated" };
  }
  if (phase === "Succeeded") return { kind: "terminated" };
  if (phase === "Failed") {
    const reason = agentTerminated?.reason ?? pod.status?.reason ?? "Failed";
    const detail = reasonAndMessage(reason, agentTerminated?.message ?? pod.status?.message);
    return {
      kind: "failed",
      code: "k8s_pod_start_failed",
      reason,
      message: `Pod ${name} failed before container ${options.containerName} ran: ${detail}`,
      permanent: agentTerminated !== undefined,
    };
  }
  if (agent?.state?.running !== undefined) return { kind: "running" };

  for (const { status, init } of allContainerStatuses(pod)) {
    const waiting = status.state?.waiting;
    const reason = waiting?.reason;
    if (waiting === undefined || reason === undefined) continue;
    const what = `${init ? "init container" : "container"} ${status.name} of pod ${name}`;
    const detail = reasonAndMessage(reason, waiting.message);
    if (PERMANENT_IMAGE_REASONS.has(reason)) {
      return {
        kind: "failed",
        code: "k8s_image_pull_failed",
        reason,
        message: `Image ${status.image || "(unknown)"} of ${what} cannot be used: ${detail}`,
        permanent: true,
      };
    }
    if (TRANSIENT_IMAGE_REASONS.has(reason)) {
      const lasted = clock.lastedFor(`image-pull:${status.name}`);
      if (lasted >= options.imagePullGraceMs) {
        return {
          kind: "failed",
          code: "k8s_image_pull_failed",
          reason,
          message: `Image ${status.image || "(unknown)"} of ${what} still could not be pulled after ${seconds(lasted)}: ${detail}. Pull errors can be transient (registry, network, rate limit), but the run stopped waiting.`,
          permanent: false,
        };
      }
      continue;
    }
    if (CREATE_ERROR_REASONS.has(reason)) {
      const lasted = clock.lastedFor(`create-error:${status.name}`);
      if (lasted >= (options.configErrorGraceMs ?? DEFAULT_CONFIG_ERROR_GRACE_MS)) {
        return {
          kind: "failed",
          code: "k8s_pod_start_failed",
          reason,
          message: `Kubernetes could not create ${what} for ${seconds(lasted)}: ${detail}`,
          permanent: true,
        };
      }
      continue;
    }
    if (reason === "CrashLoopBackOff") {
      return {
        kind: "failed",
        code: "k8s_pod_start_failed",
        reason,
        message: `${what} keeps crashing: ${detail}`,
        permanent: false,
      };
    }
  }

  const scheduled = pod.status?.conditions?.find((condition) => condition.type === "PodScheduled");
  if (scheduled?.status === "True" || pod.spec?.nodeName) {
    const lasted = clock.lastedFor("scheduled");
    if (lasted >= options.startupTimeoutMs) {
      return {
        kind: "failed",
        code: "k8s_pod_start_failed",
        reason: "StartupTimeout",
        message: `Container ${options.containerName} was still not running ${seconds(lasted)} after pod ${name} was scheduled (${describeContainers(pod)}).`,
        permanent: false,
      };
    }
    return { kind: "pending", detail: describePodState(pod) };
  }

  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    const lasted = clock.lastedFor("unschedulable");
    if (lasted >= (options.unschedulableGraceMs ?? 0)) {
      return {
        kind: "failed",
        code: "k8s_pod_schedule_failed",
        reason: "Unschedulable",
        message: `Pod ${name} cannot be scheduled: ${oneLine(scheduled.message ?? "no message from the scheduler")}`,
        permanent: false,
      };
    }
  }
  if (sinceJobCreated >= options.scheduleTimeoutMs) {
    return {
      kind: "failed",
      code: "k8s_pod_schedule_failed",
      reason: "ScheduleTimeout",
      message: `Pod ${name} was still not scheduled ${seconds(sinceJobCreated)} after the Job was created (${describePodState(pod)}).`,
      permanent: false,
    };
  }
  return { kind: "pending", detail: describePodState(pod) };
}

function describeContainerState(status: V1ContainerStatus): string {
  const { waiting, running, terminated } = status.state ?? {};
  if (terminated !== undefined) {
    const detail = reasonAndMessage(terminated.reason, terminated.message);
    return `terminated exit ${terminated.exitCode}${detail ? ` (${detail})` : ""}`;
  }
  if (running !== undefined) return "running";
  if (waiting !== undefined) {
    return `waiting${waiting.reason ? ` ${waiting.reason}` : ""}${waiting.message ? ` (${oneLine(waiting.message)})` : ""}`;
  }
  return "state unknown";
}

function describeContainers(pod: V1Pod): string {
  const parts = allContainerStatuses(pod).map(
    ({ status, init }) => `${init ? "init container" : "container"} ${status.name}: ${describeContainerState(status)}`,
  );
  return parts.length > 0 ? parts.join(", ") : "no container status yet";
}

/**
 * The pod's state in one run-log line (without the `[paperclip]` prefix the run log adds), e.g.
 * `Pod x: phase=Pending, PodScheduled=False (Unschedulable: 0/3 nodes are available: …), no container status yet`.
 * It holds no timestamps or counters, so posting it only when it differs from the last one posts each
 * state change once.
 */
export function describePodState(pod: V1Pod): string {
  const parts = [`phase=${pod.status?.phase ?? "Unknown"}`];
  const scheduled = pod.status?.conditions?.find((condition) => condition.type === "PodScheduled");
  if (scheduled !== undefined) {
    const detail = scheduled.status === "True" ? "" : reasonAndMessage(scheduled.reason, scheduled.message);
    parts.push(`PodScheduled=${scheduled.status}${detail ? ` (${detail})` : ""}`);
  }
  const podReason = reasonAndMessage(pod.status?.reason, pod.status?.message);
  if (podReason) parts.push(`reason ${podReason}`);
  if (pod.metadata?.deletionTimestamp !== undefined) parts.push("terminating");
  parts.push(describeContainers(pod));
  return `Pod ${podName(pod)}: ${parts.join(", ")}`;
}

/** A Warning event as one run-log line (without the `[paperclip]` prefix); null for Normal events. */
export function formatWarningEvent(event: CoreV1Event): string | null {
  if (event.type !== "Warning") return null;
  const object = event.involvedObject;
  const count = event.series?.count ?? event.count ?? 1;
  const about = [object.kind, object.name].filter(Boolean).join(" ");
  return `Warning ${event.reason ?? "(no reason)"}${about ? ` on ${about}` : ""}: ${oneLine(event.message ?? "", 500)}${count > 1 ? ` (x${count})` : ""}`;
}

/** Collapses whitespace (Kubernetes messages may span lines) and cuts long text with an ellipsis. */
export function oneLine(text: string, maxChars = 300): string {
  const collapsed = text.replace(/\s+/g, " ").trim();
  return collapsed.length <= maxChars ? collapsed : `${collapsed.slice(0, maxChars - 1)}…`;
}

/** `reason: message` from optional parts, as one line; "" when both are missing. */
export function reasonAndMessage(reason: string | undefined, message: string | undefined): string {
  return [reason, message === undefined ? undefined : oneLine(message)]
    .filter((part): part is string => part !== undefined && part !== "")
    .join(": ");
}

export interface StartupEventsOptions {
  /** The caller's clock, epoch ms. */
  now: number;
  /** A volume that cannot attach fails the run once it has been reported this long (the attach may still succeed). */
  volumeAttachGraceMs: number;
  /** When each event condition was first seen; one map per run, kept apart from `diagnosePodStartup`'s. */
  firstSeen: Map<string, number>;
}

/**
 * What the Warning events of a Job or its pod say about a start that is taking a while (DESIGN §3.8). The
 * Job controller's `FailedCreate` (Pod Security admission, a webhook, a quota) means no pod will exist: the run
 * fails at once, quoting the refusal, instead of waiting for the schedule timeout. `FailedAttachVolume` (a
 * ReadWriteOnce claim held on another node: Multi-Attach) fails once it has lasted `volumeAttachGraceMs`.
 * Null: nothing in the events ends the start.
 */
export function diagnoseStartupEvents(events: CoreV1Event[], options: StartupEventsOptions): StartupDiagnosis | null {
  const refused = events.find((event) => event.type === "Warning" && event.reason === "FailedCreate" && event.involvedObject.kind === "Job");
  if (refused) {
    const message = oneLine(refused.message ?? "no message from the Job controller", 1000);
    return {
      kind: "failed",
      code: "k8s_pod_create_refused",
      reason: "FailedCreate",
      message: `Kubernetes refused to create the pod of Job ${refused.involvedObject.name ?? "(unnamed)"}: ${message}`,
      // A Pod Security violation lies in the pod's spec; a quota may free up.
      permanent: message.includes("violates PodSecurity"),
    };
  }
  const attach = events.find((event) => event.type === "Warning" && event.reason === "FailedAttachVolume");
  if (attach) {
    const since = options.firstSeen.get("FailedAttachVolume") ?? options.now;
    options.firstSeen.set("FailedAttachVolume", since);
    if (options.now - since >= options.volumeAttachGraceMs) {
      return {
        kind: "failed",
        code: "k8s_volume_attach_failed",
        reason: "FailedAttachVolume",
        message: `Pod ${attach.involvedObject.name ?? "(unnamed)"} could not attach its volume for ${seconds(options.now - since)}: ${oneLine(attach.message ?? "no message", 1000)}`,
        permanent: false,
      };
    }
  } else {
    options.firstSeen.delete("FailedAttachVolume");
  }
  return null;
}
