import { createHash } from "node:crypto";
import type { JsonObject } from "../api/json.ts";
import { child, isObject, numberAt, objectAt, objectsAt, stringAt, stringMapAt } from "../api/json.ts";
import { applyDefaults, prepareForCreate } from "../api/defaults.ts";
import { recordEvent } from "../events.ts";
import type { K8sObject, ObjectStore, StoreEvent } from "../store.ts";
import { kubeTimestamp } from "./conditions.ts";
import { controllerOf, controllerReference, isControlledBy, isPodTerminal } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

const COMPONENT = "deployment-controller";
const HASH_LABEL = "pod-template-hash";
const REVISION = "deployment.kubernetes.io/revision";
const SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/**
 * JSON with sorted keys and without null fields, so two templates compare equal whatever order a
 * patch left their keys in, and however a client spelled an unset field (`creationTimestamp: null`).
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).filter((key) => value[key] !== null && value[key] !== undefined).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The template without the hash label (what makes a ReplicaSet "the new one" for a template). */
function templateIdentity(template: JsonObject | undefined): string {
  const copy = structuredClone(template ?? {});
  const labels = objectAt(objectAt(copy, "metadata"), "labels");
  if (labels) delete labels[HASH_LABEL];
  return canonical(copy);
}

/** A stable short hash of the template in the alphabet Kubernetes uses for generated names. */
function templateHash(template: JsonObject | undefined): string {
  const digest = createHash("sha256").update(templateIdentity(template)).digest();
  let hash = "";
  for (let i = 0; i < 10; i++) hash += SAFE_ALPHABET[(digest[i] ?? 0) % SAFE_ALPHABET.length];
  return hash;
}

/** An int-or-percent (`maxSurge`, `maxUnavailable`) of `total`, rounded up or down. */
function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const percent = /^(\d+)%$/.exec(String(value ?? "0"));
  if (!percent) return Number(value) || 0;
  const exact = (Number(percent[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

const replicasOf = (rs: K8sObject) => numberAt(objectAt(rs, "spec"), "replicas") ?? 0;
const statusCount = (rs: K8sObject, field: string) => numberAt(objectAt(rs, "status"), field) ?? 0;
const revisionOf = (object: K8sObject) => Number(object.metadata.annotations?.[REVISION] ?? 0);
const nextRevision = (old: K8sObject[]) => String(Math.max(0, ...old.map(revisionOf)) + 1);
const sum = (items: K8sObject[], count: (rs: K8sObject) => number) => items.reduce((total, rs) => total + count(rs), 0);

interface DeploymentCondition {
  type: "Available" | "Progressing";
  status: "True" | "False";
  reason: string;
  message: string;
}

/**
 * The Deployment controller: one ReplicaSet per pod template (`<name>-<pod-template-hash>`, a
 * template change makes a new one and raises the revision), rolled out by the strategy:
 * `Recreate` scales the old ReplicaSets to zero and waits for their pods to be gone before the new
 * one scales up; `RollingUpdate` surges the new one by `maxSurge` and scales old ones down as far
 * as `maxUnavailable` allows. Status counts replicas / updated / ready / available, with the
 * Available and Progressing conditions `kubectl rollout status` reads. Old ReplicaSets beyond
 * `revisionHistoryLimit` are deleted; `progressDeadlineSeconds` without progress is
 * ProgressDeadlineExceeded. (No pause.)
 */
export class DeploymentController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: COMPONENT, reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "deployments", (event) => this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name)));
    this.loop.listen(this.store, "replicasets", (event) => this.enqueueOwner(event.object));
    // Recreate waits for the old pods to be gone, which only pod events tell.
    this.loop.listen(this.store, "pods", (event) => this.onPodEvent(event));
    for (const deployment of this.store.list("deployments").items) {
      this.loop.enqueue(objectKey(deployment.metadata.namespace, deployment.metadata.name));
    }
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  private enqueueOwner(replicaSet: K8sObject): void {
    const owner = controllerOf(replicaSet);
    if (owner?.kind === "Deployment") this.loop.enqueue(objectKey(replicaSet.metadata.namespace, owner.name));
  }

  private onPodEvent(event: StoreEvent): void {
    const owner = controllerOf(event.object);
    if (owner?.kind !== "ReplicaSet") return;
    const replicaSet = this.store.get("replicasets", event.object.metadata.namespace, owner.name);
    if (replicaSet) this.enqueueOwner(replicaSet);
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const deployment = this.store.get("deployments", namespace, name);
    if (!deployment?.metadata.uid || deployment.metadata.deletionTimestamp) return;
    const spec = objectAt(deployment, "spec") ?? {};
    const desired = numberAt(spec, "replicas") ?? 1;
    const all = this.ownedReplicaSets(deployment);
    const identity = templateIdentity(objectAt(spec, "template"));
    let newRs = all.find((rs) => templateIdentity(objectAt(objectAt(rs, "spec"), "template")) === identity);
    const old = all.filter((rs) => rs !== newRs);
    let created = false;
    // A template that returns to an older ReplicaSet's (rollout undo) makes that one the newest revision.
    if (newRs && revisionOf(newRs) <= Math.max(0, ...old.map(revisionOf))) newRs = this.setRevision(deployment, newRs, nextRevision(old));

    if (stringAt(objectAt(spec, "strategy"), "type") === "Recreate") {
      for (const rs of old) if (replicasOf(rs) > 0) this.scale(deployment, rs, 0);
      if (!this.oldPodsGone(namespace, old)) {
        this.writeStatus(deployment, desired, newRs, this.ownedReplicaSets(deployment), false);
        return;
      }
      if (!newRs) [newRs, created] = [this.createReplicaSet(deployment, old, desired), true];
      else if (replicasOf(newRs) !== desired) newRs = this.scale(deployment, newRs, desired);
    } else {
      const rolling = objectAt(objectAt(spec, "strategy"), "rollingUpdate");
      const maxSurge = scaledValue(rolling?.maxSurge ?? "25%", desired, true);
      let maxUnavailable = scaledValue(rolling?.maxUnavailable ?? "25%", desired, false);
      if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
      const total = sum(all, replicasOf);
      if (!newRs) {
        const room = old.length === 0 ? desired : Math.max(0, Math.min(desired, desired + maxSurge - total));
        [newRs, created] = [this.createReplicaSet(deployment, old, room), true];
      } else if (replicasOf(newRs) > desired) {
        newRs = this.scale(deployment, newRs, desired);
      } else if (replicasOf(newRs) < desired) {
        const room = Math.max(0, Math.min(desired, replicasOf(newRs) + desired + maxSurge - total));
        if (room > replicasOf(newRs)) newRs = this.scale(deployment, newRs, room);
      }
      this.scaleDownOld(deployment, newRs, old, desired - maxUnavailable);
    }
    this.cleanUpHistory(deployment, newRs);
    this.writeStatus(deployment, desired, newRs, this.ownedReplicaSets(deployment), created);
  }

  private ownedReplicaSets(deployment: K8sObject): K8sObject[] {
    return this.store.list("replicasets", {
      namespace: deployment.metadata.namespace,
      filter: (rs) => isControlledBy(rs, deployment.metadata.uid) && !rs.metadata.deletionTimestamp,
    }).items;
  }

  private oldPodsGone(namespace: string, old: K8sObject[]): boolean {
    const uids = new Set(old.map((rs) => rs.metadata.uid));
    return !this.store.list("pods", { namespace, filter: (pod) => uids.has(controllerOf(pod)?.uid) && !isPodTerminal(pod) }).items.length;
  }

  /** Takes old ReplicaSets down: unhealthy replicas first, then as many available ones as `minAvailable` allows. */
  private scaleDownOld(deployment: K8sObject, newRs: K8sObject, old: K8sObject[], minAvailable: number): void {
    const oldest = [...old].filter((rs) => replicasOf(rs) > 0).sort((a, b) => revisionOf(a) - revisionOf(b));
    const all = [newRs, ...old];
    const newUnavailable = Math.max(0, replicasOf(newRs) - statusCount(newRs, "availableReplicas"));
    let cleanup = sum(all, replicasOf) - minAvailable - newUnavailable;
    const targets = new Map(oldest.map((rs) => [rs, replicasOf(rs)]));
    for (const rs of oldest) {
      if (cleanup <= 0) break;
      const unhealthy = Math.max(0, replicasOf(rs) - statusCount(rs, "availableReplicas"));
      const cut = Math.min(unhealthy, cleanup);
      targets.set(rs, replicasOf(rs) - cut);
      cleanup -= cut;
    }
    let scaleDown = sum(all, (rs) => statusCount(rs, "availableReplicas")) - minAvailable;
    for (const rs of oldest) {
      if (scaleDown <= 0) break;
      const current = targets.get(rs) ?? 0;
      const cut = Math.min(current, scaleDown);
      targets.set(rs, current - cut);
      scaleDown -= cut;
    }
    for (const [rs, replicas] of targets) if (replicas !== replicasOf(rs)) this.scale(deployment, rs, replicas);
  }

  private createReplicaSet(deployment: K8sObject, old: K8sObject[], replicas: number): K8sObject {
    const spec = objectAt(deployment, "spec") ?? {};
    const template = structuredClone(objectAt(spec, "template") ?? {});
    const hash = templateHash(template);
    const templateMeta = child(template, "metadata");
    templateMeta.labels = { ...objectAt(templateMeta, "labels"), [HASH_LABEL]: hash };
    const selector = structuredClone(objectAt(spec, "selector") ?? {});
    selector.matchLabels = { ...objectAt(selector, "matchLabels"), [HASH_LABEL]: hash };
    const revision = nextRevision(old);
    const name = `${deployment.metadata.name ?? ""}-${hash}`;
    const replicaSet: K8sObject = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name,
        namespace: deployment.metadata.namespace,
        labels: stringMapAt(templateMeta, "labels"),
        annotations: {
          "deployment.kubernetes.io/desired-replicas": String(numberAt(spec, "replicas") ?? 1),
          "deployment.kubernetes.io/max-replicas": String(numberAt(spec, "replicas") ?? 1),
          [REVISION]: revision,
        },
        ownerReferences: [controllerReference(deployment)],
      },
      spec: { replicas, minReadySeconds: numberAt(spec, "minReadySeconds") ?? 0, selector, template },
    };
    applyDefaults("replicasets", replicaSet);
    prepareForCreate("replicasets", replicaSet);
    const stored = this.store.create("replicasets", replicaSet);
    this.annotateRevision(deployment, revision);
    recordEvent(this.store, deployment, "Normal", "ScalingReplicaSet", `Scaled up replica set ${name} from 0 to ${replicas}`, COMPONENT);
    return stored;
  }

  private setRevision(deployment: K8sObject, replicaSet: K8sObject, revision: string): K8sObject {
    const updated = this.store.mutate("replicasets", replicaSet.metadata.namespace, replicaSet.metadata.name ?? "", (current) => {
      current.metadata.annotations = { ...current.metadata.annotations, [REVISION]: revision };
    });
    this.annotateRevision(deployment, revision);
    return updated ?? replicaSet;
  }

  /** The Deployment carries the revision of its newest ReplicaSet (what `kubectl rollout history` starts from). */
  private annotateRevision(deployment: K8sObject, revision: string): void {
    this.store.mutate("deployments", deployment.metadata.namespace, deployment.metadata.name ?? "", (current) => {
      current.metadata.annotations = { ...current.metadata.annotations, [REVISION]: revision };
    });
  }

  private scale(deployment: K8sObject, replicaSet: K8sObject, replicas: number): K8sObject {
    const from = replicasOf(replicaSet);
    const name = replicaSet.metadata.name ?? "";
    const scaled = this.store.mutate("replicasets", replicaSet.metadata.namespace, name, (current) => {
      child(current, "spec").replicas = replicas;
      current.metadata.generation = Number(current.metadata.generation ?? 1) + 1;
    });
    const direction = replicas > from ? "up" : "down";
    recordEvent(this.store, deployment, "Normal", "ScalingReplicaSet", `Scaled ${direction} replica set ${name} from ${from} to ${replicas}`, COMPONENT);
    return scaled ?? replicaSet;
  }

  /** Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`. */
  private cleanUpHistory(deployment: K8sObject, newRs: K8sObject): void {
    const limit = numberAt(objectAt(deployment, "spec"), "revisionHistoryLimit") ?? 10;
    const idle = this.ownedReplicaSets(deployment)
      .filter((rs) => rs.metadata.uid !== newRs.metadata.uid && replicasOf(rs) === 0 && statusCount(rs, "replicas") === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      this.store.remove("replicasets", rs.metadata.namespace, rs.metadata.name ?? "");
    }
  }

  /**
   * The Progressing condition: NewReplicaSetAvailable once complete; NewReplicaSetCreated /
   * ReplicaSetUpdated while it moves; ProgressDeadlineExceeded (status False) once it has not
   * moved for `progressDeadlineSeconds` (what makes `kubectl rollout status` give up).
   */
  private progressing(deployment: K8sObject, rsName: string, complete: boolean, created: boolean, progressed: boolean): DeploymentCondition {
    if (complete) return { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "${rsName}" has successfully progressed.` };
    if (created) return { type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: `Created new replica set "${rsName}"` };
    const updating: DeploymentCondition = { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${rsName}" is progressing.` };
    const previous = objectsAt(objectAt(deployment, "status"), "conditions").find((condition) => condition.type === "Progressing");
    if (progressed || !previous) return updating;
    const timedOut: DeploymentCondition = { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: `ReplicaSet "${rsName}" has timed out progressing.` };
    if (previous.reason === timedOut.reason) return timedOut;
    const deadlineMs = (numberAt(objectAt(deployment, "spec"), "progressDeadlineSeconds") ?? 600) * 1000;
    const remainingMs = Date.parse(String(previous.lastUpdateTime ?? "")) + deadlineMs - Date.now();
    if (remainingMs <= 0) return timedOut;
    this.loop.enqueueAfter(objectKey(deployment.metadata.namespace, deployment.metadata.name), remainingMs);
    return { type: "Progressing", status: "True", reason: String(previous.reason ?? updating.reason), message: String(previous.message ?? updating.message) };
  }

  private writeStatus(deployment: K8sObject, desired: number, newRs: K8sObject | undefined, all: K8sObject[], created: boolean): void {
    const spec = objectAt(deployment, "spec") ?? {};
    const current = newRs ? all.find((rs) => rs.metadata.uid === newRs.metadata.uid) : undefined;
    const replicas = sum(all, (rs) => statusCount(rs, "replicas"));
    const updated = current ? statusCount(current, "replicas") : 0;
    const ready = sum(all, (rs) => statusCount(rs, "readyReplicas"));
    const available = sum(all, (rs) => statusCount(rs, "availableReplicas"));
    const rolling = objectAt(objectAt(spec, "strategy"), "rollingUpdate");
    const maxUnavailable = rolling ? scaledValue(rolling.maxUnavailable ?? "25%", desired, false) : 0;
    const counts: Record<string, number> = {
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
    };
    const rsName = current?.metadata.name ?? "";
    const complete = current !== undefined && updated === desired && replicas === desired && available === desired;
    const before = objectAt(deployment, "status");
    // Progress: a new ReplicaSet, a new spec, or pods moving (the counts changed since the last sync).
    const progressed =
      created ||
      numberAt(before, "observedGeneration") !== (deployment.metadata.generation ?? 1) ||
      Object.entries(counts).some(([field, value]) => (numberAt(before, field) ?? 0) !== value);
    const candidates: (DeploymentCondition | undefined)[] = [
      available >= desired - maxUnavailable
        ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }
        : { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." },
      // Before a Recreate rollout has made its new ReplicaSet there is no progress to report yet.
      current ? this.progressing(deployment, rsName, complete, created, progressed) : undefined,
    ];
    const conditions = candidates.filter((condition): condition is DeploymentCondition => condition !== undefined);
    this.store.mutate("deployments", deployment.metadata.namespace, deployment.metadata.name ?? "", (stored) => {
      if (stored.metadata.uid !== deployment.metadata.uid) return;
      const status: JsonObject = { observedGeneration: deployment.metadata.generation ?? 1 };
      // The counters are omitempty in the real API.
      for (const [field, value] of Object.entries(counts)) if (value > 0) status[field] = value;
      const previous = objectsAt(objectAt(stored, "status"), "conditions");
      const kept = previous.filter((entry) => !conditions.some((condition) => condition.type === entry.type));
      status.conditions = [...mergeConditions(previous, conditions, progressed), ...kept];
      stored.status = status;
    });
  }
}

/**
 * Deployment conditions carry lastUpdateTime (moves on any change, and for Progressing whenever
 * the rollout moved) and lastTransitionTime (moves when the status flips).
 */
function mergeConditions(previous: JsonObject[], next: DeploymentCondition[], progressed: boolean): JsonObject[] {
  const now = kubeTimestamp();
  return next.map((condition) => {
    const before = previous.find((entry) => entry.type === condition.type);
    const unchanged = before && before.status === condition.status && before.reason === condition.reason && before.message === condition.message;
    if (unchanged && condition.type === "Progressing" && progressed && condition.status === "True") return { ...before, lastUpdateTime: now };
    if (unchanged) return before;
    return {
      ...condition,
      lastUpdateTime: now,
      lastTransitionTime: before && before.status === condition.status ? (before.lastTransitionTime ?? now) : now,
    };
  });
}
