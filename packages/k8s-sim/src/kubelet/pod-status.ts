import type { K8sObject } from "../store.ts";
import { isRecord } from "./pod-spec.ts";

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed";

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: TerminatedState };

/** A `containerStatuses[]` entry as the kubelet publishes it. */
export interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
}

export interface PodCondition {
  type: string;
  status: "True" | "False";
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

export interface PodStatusSnapshot {
  phase: PodPhase;
  /** Pod-level reason and message, e.g. `Evicted`. */
  reason?: string;
  message?: string;
  hostIP: string;
  podIP: string;
  startTime: string;
  /** Set once the pod's volumes are set up and its containers may start. */
  sandboxReady: boolean;
  initContainerStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  disruption?: { reason: string; message: string };
}

/** Timestamps as Kubernetes writes them in status: RFC 3339, whole seconds. */
export function statusTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}

export function isTerminated(status: ContainerStatus): status is ContainerStatus & { state: { terminated: TerminatedState } } {
  return "terminated" in status.state;
}

function isRunning(status: ContainerStatus): boolean {
  return "running" in status.state;
}

/**
 * The pod phase from its container states, as the kubelet computes it: Pending until init
 * containers are done and a container has run; then Running; terminal once every container has
 * stopped for good under the restart policy.
 */
export function podPhase(
  restartPolicy: "Always" | "OnFailure" | "Never",
  initStatuses: readonly ContainerStatus[],
  statuses: readonly ContainerStatus[],
): PodPhase {
  const initFailed = initStatuses.some((s) => isTerminated(s) && s.state.terminated.exitCode !== 0);
  if (initFailed && restartPolicy === "Never") return "Failed";
  const initDone = initStatuses.every((s) => isTerminated(s) && s.state.terminated.exitCode === 0);
  if (!initDone) return "Pending";
  // A container waiting to restart has run before: it keeps the pod Running.
  if (statuses.some((s) => isRunning(s) || (!isTerminated(s) && s.restartCount > 0))) return "Running";
  if (statuses.some((s) => !isTerminated(s))) return "Pending";
  const allSucceeded = statuses.every((s) => isTerminated(s) && s.state.terminated.exitCode === 0);
  if (restartPolicy === "Always") return "Running";
  if (allSucceeded) return "Succeeded";
  return restartPolicy === "Never" ? "Failed" : "Running";
}

function condition(type: string, ok: boolean, reason?: string, message?: string): Omit<PodCondition, "lastTransitionTime"> {
  return { type, status: ok ? "True" : "False", ...(ok ? {} : { reason, message }), lastProbeTime: null };
}

function names(statuses: readonly ContainerStatus[]): string {
  return `[${statuses.map((s) => s.name).join(" ")}]`;
}

function kubeletConditions(snapshot: PodStatusSnapshot): Omit<PodCondition, "lastTransitionTime">[] {
  const terminal = snapshot.phase === "Succeeded" || snapshot.phase === "Failed";
  const incompleteInit = snapshot.initContainerStatuses.filter((s) => !(isTerminated(s) && s.state.terminated.exitCode === 0));
  const unready = snapshot.containerStatuses.filter((s) => !s.ready);
  const initialized =
    incompleteInit.length === 0
      ? condition("Initialized", true)
      : condition("Initialized", false, "ContainersNotInitialized", `containers with incomplete status: ${names(incompleteInit)}`);
  const ready = (type: string) =>
    unready.length === 0
      ? condition(type, true)
      : terminal
        ? condition(type, false, "PodCompleted", "")
        : condition(type, false, "ContainersNotReady", `containers with unready status: ${names(unready)}`);
  const conditions = [
    condition("PodReadyToStartContainers", snapshot.sandboxReady && !terminal),
    initialized,
    ready("Ready"),
    ready("ContainersReady"),
  ];
  if (snapshot.disruption) {
    conditions.unshift({ type: "DisruptionTarget", status: "True", ...snapshot.disruption, lastProbeTime: null });
  }
  return conditions;
}

/**
 * Writes the kubelet's view into a pod object's status. Conditions other writers own (e.g. the
 * scheduler's PodScheduled) are kept; a condition's lastTransitionTime moves only when its status does.
 */
export function applyPodStatus(pod: K8sObject, snapshot: PodStatusSnapshot): void {
  const previous = isRecord(pod.status) ? pod.status : {};
  const oldConditions = (Array.isArray(previous.conditions) ? previous.conditions : []).filter(isRecord);
  const now = statusTime();
  const ours = kubeletConditions(snapshot).map((entry): PodCondition => {
    const old = oldConditions.find((c) => c.type === entry.type);
    const since = old && old.status === entry.status && typeof old.lastTransitionTime === "string" ? old.lastTransitionTime : now;
    return { ...entry, lastTransitionTime: since };
  });
  const ourTypes = new Set(ours.map((c) => c.type));
  const others = oldConditions.filter((c) => typeof c.type === "string" && !ourTypes.has(c.type));
  const status: Record<string, unknown> = {
    ...previous,
    phase: snapshot.phase,
    conditions: [...ours, ...others],
    hostIP: snapshot.hostIP,
    hostIPs: [{ ip: snapshot.hostIP }],
    podIP: snapshot.podIP,
    podIPs: [{ ip: snapshot.podIP }],
    startTime: snapshot.startTime,
    containerStatuses: snapshot.containerStatuses,
    qosClass: previous.qosClass ?? "BestEffort",
  };
  if (snapshot.initContainerStatuses.length > 0) status.initContainerStatuses = snapshot.initContainerStatuses;
  if (snapshot.reason !== undefined) status.reason = snapshot.reason;
  if (snapshot.message !== undefined) status.message = snapshot.message;
  pod.status = status;
}
