import type { JsonObject } from "../api/json.ts";
import { jsonEqual, numberAt, objectAt, stringAt } from "../api/json.ts";
import type { EventType } from "../events.ts";
import { recordEvent } from "../events.ts";
import { deletePod } from "../pod-deletion.ts";
import type { K8sObject, ObjectStore, SharedObject, StoreEvent } from "../store.ts";
import type { ConditionUpdate } from "./conditions.ts";
import { findCondition, isConditionTrue, kubeTimestamp, setCondition } from "./conditions.ts";
import { controllerOf, createPodFromTemplate, isControlledBy, isPodReady, isPodTerminal, podPhase } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

const COMPONENT = "job-controller";
const DEFAULT_BACKOFF_LIMIT = 6;

const SUCCESS_CRITERIA_MET: ConditionUpdate = {
  type: "SuccessCriteriaMet",
  status: "True",
  reason: "CompletionsReached",
  message: "Reached expected number of succeeded pods",
};
const BACKOFF_LIMIT_EXCEEDED: ConditionUpdate = {
  type: "FailureTarget",
  status: "True",
  reason: "BackoffLimitExceeded",
  message: "Job has reached the specified backoff limit",
};
const DEADLINE_EXCEEDED: ConditionUpdate = {
  type: "FailureTarget",
  status: "True",
  reason: "DeadlineExceeded",
  message: "Job was active longer than specified deadline",
};
/** The terminal condition each interim condition leads to once no pod is left running. */
const TERMINAL_TYPE: Record<string, string> = { SuccessCriteriaMet: "Complete", FailureTarget: "Failed" };

export interface JobControllerOptions {
  /** Delay before replacing the first failed pod; doubles per consecutive failure. Kubernetes: 10 s. Default 10 ms. */
  backoffBaseMs?: number;
  /** Upper bound of that delay. Kubernetes: 6 min. Default 1 s. */
  backoffMaxMs?: number;
  onError?: ReconcileErrorHandler;
}

/**
 * What the controller remembers about one Job between syncs. The real controller keeps this in a
 * finalizer on each pod; in-process memory does the same job here, as the sim never restarts
 * its controllers without its store.
 */
interface JobMemory {
  uid: string;
  synced: boolean;
  /** Pods (by uid) already added to status.succeeded / status.failed, or deliberately not counted. */
  counted: Set<string>;
  /** Last state of pods removed from the store since the last sync. */
  vanished: K8sObject[];
  failuresSinceSuccess: number;
  lastFailureAt: number;
}

type PendingEvent = [EventType, string, string];

/**
 * The Job controller for NonIndexed Jobs, as Kubernetes 1.31+ runs it: one pod per needed
 * completion (up to `parallelism`), counts of active / ready / terminating / succeeded / failed
 * pods, backoff between retries, `backoffLimit`, `activeDeadlineSeconds`, `suspend`, and the
 * interim-then-terminal conditions (`SuccessCriteriaMet` → `Complete`, `FailureTarget` → `Failed`),
 * the terminal one written only once no pod of the Job is still running.
 */
export class JobController {
  private readonly store: ObjectStore;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly loop: ReconcileLoop;
  private readonly memories = new Map<string, JobMemory>();

  constructor(store: ObjectStore, options: JobControllerOptions = {}) {
    this.store = store;
    this.backoffBaseMs = nonNegative("backoffBaseMs", options.backoffBaseMs ?? 10);
    this.backoffMaxMs = nonNegative("backoffMaxMs", options.backoffMaxMs ?? 1000);
    this.loop = new ReconcileLoop({ controller: COMPONENT, reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "jobs", (event) =>
      this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name)),
    );
    this.loop.listen(this.store, "pods", (event) => this.onPodEvent(event));
    for (const job of this.store.list("jobs").items) {
      this.loop.enqueue(objectKey(job.metadata.namespace, job.metadata.name));
    }
  }

  async stop(): Promise<void> {
    this.loop.stop();
    this.memories.clear();
  }

  private onPodEvent(event: StoreEvent): void {
    const owner = controllerOf(event.object);
    if (owner?.kind !== "Job") return;
    const key = objectKey(event.object.metadata.namespace, owner.name);
    if (event.type === "DELETED") this.memoryFor(key, owner.uid).vanished.push(event.object);
    this.loop.enqueue(key);
  }

  private memoryFor(key: string, uid: string): JobMemory {
    let memory = this.memories.get(key);
    if (memory?.uid !== uid) {
      memory = { uid, synced: false, counted: new Set(), vanished: [], failuresSinceSuccess: 0, lastFailureAt: 0 };
      this.memories.set(key, memory);
    }
    return memory;
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const job = this.store.peek("jobs", namespace, name);
    const uid = job?.metadata.uid;
    const current = objectAt(job, "status");
    if (!job || !uid || job.metadata.deletionTimestamp || isFinished(current)) {
      this.memories.delete(key);
      return;
    }
    const spec = objectAt(job, "spec") ?? {};
    const memory = this.memoryFor(key, uid);
    const status: JsonObject = structuredClone(current ?? {});
    const events: PendingEvent[] = [];
    const now = Date.now();
    const stamp = kubeTimestamp(now);

    let pods = this.ownedPods(job);
    if (!memory.synced) adoptCounts(status, pods, memory);
    this.tally(status, pods, memory, now);

    let interim = interimCondition(status);
    if (!interim) {
      interim = this.verdict(spec, status, now);
      if (interim) setCondition(status, interim, stamp, stamp);
    }

    if (interim) {
      pods = this.deleteActivePods(job, pods, events);
      this.tally(status, pods, memory, now);
      if (pods.every(isPodTerminal)) this.finish(status, interim, stamp, events);
    } else if (spec.suspend === true) {
      pods = this.suspend(job, status, pods, memory, stamp, events);
    } else {
      this.resumeIfSuspended(status, stamp, events);
      status.startTime ??= stamp;
      pods = this.createMissingPods(job, spec, status, pods, memory, now, events);
      const deadlineAt = activeDeadlineAt(spec, status);
      if (deadlineAt !== undefined) this.loop.enqueueAfter(key, deadlineAt - now);
    }

    writePodCounts(status, pods);
    status.uncountedTerminatedPods ??= {};
    // Most syncs (a pod's status changed) leave the Job's status as it was: no copy of the Job, no write.
    if (!jsonEqual(status, current ?? {})) {
      this.store.mutate("jobs", namespace, name, (stored) => {
        if (stored.metadata.uid === uid) stored.status = status;
      });
    }
    for (const [type, reason, message] of events) recordEvent(this.store, job, type, reason, message, COMPONENT);
    memory.synced = true;
  }

  private ownedPods(job: SharedObject): SharedObject[] {
    return this.store.owned("pods", job.metadata.namespace, job.metadata.uid ?? "").filter((pod) => isControlledBy(pod, job.metadata.uid));
  }

  /** Adds pods that finished (or went away) since the last sync to status.succeeded / status.failed. */
  private tally(status: JsonObject, pods: K8sObject[], memory: JobMemory, now: number): void {
    const seen = [...pods.map((pod) => ({ pod, gone: false })), ...memory.vanished.map((pod) => ({ pod, gone: true }))];
    memory.vanished = [];
    for (const { pod, gone } of seen) {
      const podUid = pod.metadata.uid ?? "";
      const outcome = memory.counted.has(podUid) ? undefined : outcomeOf(pod, gone);
      if (outcome === "succeeded") {
        addCount(status, "succeeded");
        memory.failuresSinceSuccess = 0;
      } else if (outcome === "failed") {
        addCount(status, "failed");
        memory.failuresSinceSuccess++;
        memory.lastFailureAt = now;
      }
      if (outcome) memory.counted.add(podUid);
      // A removed pod never comes back: forget it.
      if (gone) memory.counted.delete(podUid);
    }
  }

  /** The interim condition the Job has earned now, if any (failure checks first, as Kubernetes does). */
  private verdict(spec: JsonObject, status: JsonObject, now: number): ConditionUpdate | undefined {
    if ((numberAt(status, "failed") ?? 0) > (numberAt(spec, "backoffLimit") ?? DEFAULT_BACKOFF_LIMIT)) {
      return BACKOFF_LIMIT_EXCEEDED;
    }
    const deadlineAt = activeDeadlineAt(spec, status);
    if (deadlineAt !== undefined && now >= deadlineAt && spec.suspend !== true) return DEADLINE_EXCEEDED;
    if ((numberAt(status, "succeeded") ?? 0) >= completions(spec)) return SUCCESS_CRITERIA_MET;
    return undefined;
  }

  private finish(status: JsonObject, interim: ConditionUpdate, stamp: string, events: PendingEvent[]): void {
    const terminalType = TERMINAL_TYPE[interim.type] ?? "Failed";
    setCondition(status, { ...interim, type: terminalType }, stamp, stamp);
    if (terminalType === "Complete") {
      status.completionTime = stamp;
      events.push(["Normal", "Completed", "Job completed"]);
    } else {
      events.push(["Warning", interim.reason ?? "", interim.message ?? ""]);
    }
  }

  /** Deletes the pods still running; returns the Job's pods as they stand afterwards. */
  private deleteActivePods(job: K8sObject, pods: K8sObject[], events: PendingEvent[]): K8sObject[] {
    const active = pods.filter(isActive);
    if (active.length === 0) return pods;
    for (const pod of active) {
      const name = pod.metadata.name ?? "";
      if (deletePod(this.store, pod.metadata.namespace ?? "", name)) events.push(["Normal", "SuccessfulDelete", `Deleted pod: ${name}`]);
    }
    return this.ownedPods(job);
  }

  private suspend(
    job: K8sObject,
    status: JsonObject,
    pods: K8sObject[],
    memory: JobMemory,
    stamp: string,
    events: PendingEvent[],
  ): K8sObject[] {
    // Pods stopped by a suspension are not failures.
    for (const pod of pods.filter(isActive)) memory.counted.add(pod.metadata.uid ?? "");
    const remaining = this.deleteActivePods(job, pods, events);
    const wasSuspended = isConditionTrue(status, "Suspended");
    setCondition(status, { type: "Suspended", status: "True", reason: "JobSuspended", message: "Job suspended" }, stamp, stamp);
    if (!wasSuspended) events.push(["Normal", "Suspended", "Job suspended"]);
    delete status.startTime;
    return remaining;
  }

  private resumeIfSuspended(status: JsonObject, stamp: string, events: PendingEvent[]): void {
    if (!isConditionTrue(status, "Suspended")) return;
    setCondition(status, { type: "Suspended", status: "False", reason: "JobResumed", message: "Job resumed" }, stamp, stamp);
    events.push(["Normal", "Resumed", "Job resumed"]);
    // A resumed Job's deadline starts over.
    status.startTime = stamp;
  }

  private createMissingPods(
    job: K8sObject,
    spec: JsonObject,
    status: JsonObject,
    pods: K8sObject[],
    memory: JobMemory,
    now: number,
    events: PendingEvent[],
  ): K8sObject[] {
    const remainingCompletions = completions(spec) - (numberAt(status, "succeeded") ?? 0);
    const missing = Math.min(numberAt(spec, "parallelism") ?? 1, remainingCompletions) - pods.filter(isActive).length;
    if (missing <= 0) return pods;
    const waitMs = this.backoffRemainingMs(memory, now);
    if (waitMs > 0) {
      this.loop.enqueueAfter(objectKey(job.metadata.namespace, job.metadata.name), waitMs);
      return pods;
    }
    for (let i = 0; i < missing; i++) {
      try {
        const pod = this.createPod(job);
        events.push(["Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name ?? ""}`]);
      } catch (error) {
        events.push(["Warning", "FailedCreate", `Error creating: ${error instanceof Error ? error.message : String(error)}`]);
        this.loop.enqueueAfter(objectKey(job.metadata.namespace, job.metadata.name), this.backoffMaxMs);
        break;
      }
    }
    return this.ownedPods(job);
  }

  private backoffRemainingMs(memory: JobMemory, now: number): number {
    if (memory.failuresSinceSuccess === 0) return 0;
    const delay = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (memory.failuresSinceSuccess - 1));
    return memory.lastFailureAt + delay - now;
  }

  private createPod(job: K8sObject): K8sObject {
    const jobName = job.metadata.name ?? "";
    const uid = job.metadata.uid ?? "";
    return createPodFromTemplate(this.store, {
      owner: job,
      template: objectAt(objectAt(job, "spec"), "template"),
      labels: {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": jobName,
        "controller-uid": uid,
        "job-name": jobName,
      },
      annotations: { "batch.kubernetes.io/job-tracking": "" },
    });
  }
}

function nonNegative(option: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`JobController option ${option} must be a non-negative number, got ${value}`);
  return value;
}

function isFinished(status: JsonObject | undefined): boolean {
  return isConditionTrue(status, "Complete") || isConditionTrue(status, "Failed");
}

/** The Job's interim condition (`SuccessCriteriaMet` / `FailureTarget`) if it has one. */
function interimCondition(status: JsonObject): ConditionUpdate | undefined {
  for (const type of ["FailureTarget", "SuccessCriteriaMet"]) {
    const condition = findCondition(status, type);
    if (stringAt(condition, "status") === "True") {
      return { type, status: "True", reason: stringAt(condition, "reason") ?? "", message: stringAt(condition, "message") ?? "" };
    }
  }
  return undefined;
}

function completions(spec: JsonObject): number {
  return numberAt(spec, "completions") ?? 1;
}

/** When `activeDeadlineSeconds` runs out, counted from `status.startTime`. */
function activeDeadlineAt(spec: JsonObject, status: JsonObject): number | undefined {
  const seconds = numberAt(spec, "activeDeadlineSeconds");
  const startTime = stringAt(status, "startTime");
  if (seconds === undefined || startTime === undefined) return undefined;
  const startedAt = Date.parse(startTime);
  return Number.isNaN(startedAt) ? undefined : startedAt + seconds * 1000;
}

/** Running or waiting to run, and not being deleted. */
function isActive(pod: K8sObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/**
 * How a pod counts: Succeeded / Failed by phase; a pod that is being deleted or is gone before
 * finishing counts as failed (Kubernetes does this for Jobs without a pod failure policy).
 */
function outcomeOf(pod: K8sObject, gone: boolean): "succeeded" | "failed" | undefined {
  const phase = podPhase(pod);
  if (phase === "Succeeded") return "succeeded";
  if (phase === "Failed" || gone || pod.metadata.deletionTimestamp) return "failed";
  return undefined;
}

/**
 * First sync of a Job that already has counts (its status written before this controller ran):
 * trust them and treat the pods that already finished as counted.
 */
function adoptCounts(status: JsonObject, pods: K8sObject[], memory: JobMemory): void {
  if ((numberAt(status, "succeeded") ?? 0) + (numberAt(status, "failed") ?? 0) === 0) return;
  for (const pod of pods) if (outcomeOf(pod, false)) memory.counted.add(pod.metadata.uid ?? "");
}

/** These counters are `omitempty` in the real API: absent when zero. (`ready` and `terminating` are always written.) */
function setCount(status: JsonObject, field: "active" | "succeeded" | "failed", value: number): void {
  if (value > 0) status[field] = value;
  else delete status[field];
}

function addCount(status: JsonObject, field: "succeeded" | "failed"): void {
  setCount(status, field, (numberAt(status, field) ?? 0) + 1);
}

function writePodCounts(status: JsonObject, pods: K8sObject[]): void {
  const active = pods.filter(isActive);
  setCount(status, "active", active.length);
  status.ready = active.filter(isPodReady).length;
  status.terminating = pods.filter((pod) => !isPodTerminal(pod) && pod.metadata.deletionTimestamp).length;
}
