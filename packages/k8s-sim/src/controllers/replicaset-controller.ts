import type { JsonObject } from "../api/json.ts";
import { numberAt, objectAt } from "../api/json.ts";
import type { EventType } from "../events.ts";
import { recordEvent } from "../events.ts";
import { deletePod } from "../pod-deletion.ts";
import type { K8sObject, ObjectStore, StoreEvent } from "../store.ts";
import { findCondition } from "./conditions.ts";
import { labelSelectorMatches } from "./label-selector.ts";
import { controllerOf, controllerReference, createPodFromTemplate, isControlledBy, isPodReady, isPodTerminal, podNodeName } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

const COMPONENT = "replicaset-controller";

/** Pods that count towards the replica count: neither finished nor being deleted. */
function isActivePod(pod: K8sObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** Ready for at least `minReadySeconds` (when the pod's Ready condition last turned True). */
function isPodAvailable(pod: K8sObject, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(String(findCondition(objectAt(pod, "status"), "Ready")?.lastTransitionTime ?? ""));
  return Number.isFinite(since) && now - since >= minReadySeconds * 1000;
}

/** Which pods go first when scaling down, as the real controller ranks them: unscheduled, pending, not ready, then the youngest. */
function deletionRank(pod: K8sObject): [number, number, number, number] {
  const phase = String(objectAt(pod, "status")?.phase ?? "Pending");
  return [podNodeName(pod) ? 1 : 0, phase === "Pending" ? 0 : 1, isPodReady(pod) ? 1 : 0, -Date.parse(pod.metadata.creationTimestamp ?? "")];
}

function compareRanks(a: K8sObject, b: K8sObject): number {
  const left = deletionRank(a);
  const right = deletionRank(b);
  for (let i = 0; i < left.length; i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods from the template (a deleted or
 * finished pod is replaced at once; orphans its selector matches are adopted, pods relabelled out
 * of it released), removes the surplus (least useful first), and reports
 * replicas / readyReplicas / availableReplicas / observedGeneration in status.
 */
export class ReplicaSetController {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: COMPONENT, reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "replicasets", (event) => this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name)));
    this.loop.listen(this.store, "pods", (event) => this.onPodEvent(event));
    for (const replicaSet of this.store.list("replicasets").items) {
      this.loop.enqueue(objectKey(replicaSet.metadata.namespace, replicaSet.metadata.name));
    }
  }

  async stop(): Promise<void> {
    this.loop.stop();
  }

  private onPodEvent(event: StoreEvent): void {
    const pod = event.object;
    const owner = controllerOf(pod);
    if (owner?.kind === "ReplicaSet") {
      this.loop.enqueue(objectKey(pod.metadata.namespace, owner.name));
    } else if (!owner && event.type !== "DELETED") {
      // An orphan: the ReplicaSets whose selector matches it may adopt it.
      const matching = this.store.list("replicasets", {
        namespace: pod.metadata.namespace,
        filter: (rs) => labelSelectorMatches(objectAt(objectAt(rs, "spec"), "selector"), pod.metadata.labels ?? {}),
      }).items;
      for (const rs of matching) this.loop.enqueue(objectKey(rs.metadata.namespace, rs.metadata.name));
    }
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const replicaSet = this.store.get("replicasets", namespace, name);
    if (!replicaSet?.metadata.uid || replicaSet.metadata.deletionTimestamp) return;
    const spec = objectAt(replicaSet, "spec") ?? {};
    const events: [EventType, string, string][] = [];
    let active = this.ownedPods(replicaSet).filter(isActivePod);
    const difference = active.length - (numberAt(spec, "replicas") ?? 1);
    if (difference < 0) {
      for (let i = 0; i < -difference; i++) {
        try {
          const pod = createPodFromTemplate(this.store, { owner: replicaSet, template: objectAt(spec, "template") });
          events.push(["Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name ?? ""}`]);
        } catch (error) {
          events.push(["Warning", "FailedCreate", `Error creating: ${error instanceof Error ? error.message : String(error)}`]);
          break;
        }
      }
    } else if (difference > 0) {
      for (const pod of [...active].sort(compareRanks).slice(0, difference)) {
        const podName = pod.metadata.name ?? "";
        if (deletePod(this.store, namespace, podName)) events.push(["Normal", "SuccessfulDelete", `Deleted pod: ${podName}`]);
      }
    }
    active = this.ownedPods(replicaSet).filter(isActivePod);
    this.writeStatus(replicaSet, active);
    for (const [type, reason, message] of events) recordEvent(this.store, replicaSet, type, reason, message, COMPONENT);
  }

  /**
   * The ReplicaSet's pods, claimed as the real controller claims them: it adopts an orphan its
   * selector matches and releases a pod of its own whose labels no longer match.
   */
  private ownedPods(replicaSet: K8sObject): K8sObject[] {
    const uid = replicaSet.metadata.uid;
    const selector = objectAt(objectAt(replicaSet, "spec"), "selector");
    const owned: K8sObject[] = [];
    for (const pod of this.store.list("pods", { namespace: replicaSet.metadata.namespace }).items) {
      const matches = labelSelectorMatches(selector, pod.metadata.labels ?? {});
      const podName = pod.metadata.name ?? "";
      if (isControlledBy(pod, uid)) {
        if (matches) owned.push(pod);
        else this.store.mutate("pods", pod.metadata.namespace, podName, (current) => dropOwner(current, uid));
      } else if (matches && !controllerOf(pod) && !pod.metadata.deletionTimestamp && !isPodTerminal(pod)) {
        const adopted = this.store.mutate("pods", pod.metadata.namespace, podName, (current) => {
          current.metadata.ownerReferences = [...(current.metadata.ownerReferences ?? []), controllerReference(replicaSet)];
        });
        if (adopted) owned.push(adopted);
      }
    }
    return owned;
  }

  private writeStatus(replicaSet: K8sObject, active: K8sObject[]): void {
    const now = Date.now();
    const minReadySeconds = numberAt(objectAt(replicaSet, "spec"), "minReadySeconds") ?? 0;
    const available = active.filter((pod) => isPodAvailable(pod, minReadySeconds, now)).length;
    const ready = active.filter(isPodReady).length;
    // A ready pod becomes available once minReadySeconds have passed: look again then.
    if (ready > available) this.loop.enqueueAfter(objectKey(replicaSet.metadata.namespace, replicaSet.metadata.name), minReadySeconds * 1000);
    const status: JsonObject = { replicas: active.length, observedGeneration: replicaSet.metadata.generation ?? 1 };
    // These counters are omitempty in the real API.
    if (active.length > 0) status.fullyLabeledReplicas = active.length;
    if (ready > 0) status.readyReplicas = ready;
    if (available > 0) status.availableReplicas = available;
    this.store.mutate("replicasets", replicaSet.metadata.namespace, replicaSet.metadata.name ?? "", (stored) => {
      if (stored.metadata.uid === replicaSet.metadata.uid) stored.status = status;
    });
  }
}

function dropOwner(pod: K8sObject, uid: string | undefined): void {
  const kept = (pod.metadata.ownerReferences ?? []).filter((owner) => owner.uid !== uid);
  if (kept.length > 0) pod.metadata.ownerReferences = kept;
  else delete pod.metadata.ownerReferences;
}
