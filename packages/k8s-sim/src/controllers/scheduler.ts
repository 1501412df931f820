import type { JsonObject } from "../api/json.ts";
import { objectAt, objectsAt, stringAt, stringMapAt } from "../api/json.ts";
import { recordEvent } from "../events.ts";
import type { ObjectStore, SharedObject, StoreEvent } from "../store.ts";
import { isConditionTrue, setCondition } from "./conditions.ts";
import { requiredNodeAffinityMatches } from "./label-selector.ts";
import type { Amounts, NodeLoad } from "./node-usage.ts";
import { NodeUsage, podRequests, toMilli } from "./node-usage.ts";
import { isPodTerminal, podNodeName } from "./pods.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

const SCHEDULER_NAME = "default-scheduler";
const NOT_HELPFUL = "Preemption is not helpful for scheduling";
/** All pods in the sim have the same priority, so preemption never finds anything to evict. */
const NO_VICTIMS = "No preemption victims found for incoming pod";

interface Taint {
  key: string;
  value: string;
  effect: string;
}

/** Why one node cannot take the pod; `resolvable` when evicting lower-priority pods could help. */
interface NodeRejection {
  reasons: string[];
  resolvable: boolean;
}

type Placement = { node: string } | { message: string };

export interface SchedulerOptions {
  onError?: ReconcileErrorHandler;
}

/**
 * The default scheduler, reduced to what the sim models: a node must be Ready and schedulable,
 * its taints tolerated, its labels matching `nodeSelector` and required node affinity, and its allocatable resources left
 * over enough for the pod's requests. Of the nodes that fit, the least loaded wins. Pods that fit
 * nowhere get `PodScheduled=False` with the real message and a `FailedScheduling` event, and are
 * retried when nodes, claims or other pods change.
 */
export class Scheduler {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;
  /** Pods that fit nowhere, with the last message reported for each (one event per distinct message). */
  private readonly unschedulable = new Map<string, string>();
  private readonly usage = new NodeUsage();

  constructor(store: ObjectStore, options: SchedulerOptions = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: SCHEDULER_NAME, reconcile: (key) => this.schedule(key), onError: options.onError });
  }

  start(): void {
    for (const pod of this.store.scan("pods")) this.usage.observe({ type: "ADDED", resource: "pods", object: pod, revision: 0 });
    this.loop.listen(this.store, "pods", (event) => this.onPodEvent(event));
    this.loop.listen(this.store, "nodes", () => this.retryUnschedulable());
    this.loop.listen(this.store, "persistentvolumeclaims", (event) => {
      if (event.type !== "DELETED") this.retryUnschedulable();
    });
    for (const pod of this.store.scan("pods", { filter: needsScheduling })) {
      this.loop.enqueue(objectKey(pod.metadata.namespace, pod.metadata.name));
    }
  }

  async stop(): Promise<void> {
    this.loop.stop();
    this.unschedulable.clear();
    this.usage.clear();
  }

  private onPodEvent(event: StoreEvent): void {
    this.usage.observe(event);
    const pod = event.object;
    const key = objectKey(pod.metadata.namespace, pod.metadata.name);
    if (event.type === "DELETED") this.unschedulable.delete(key);
    else if (needsScheduling(pod)) this.loop.enqueue(key);
    // A bound pod that stops or goes away frees its node's resources.
    if (podNodeName(pod) && (event.type === "DELETED" || isPodTerminal(pod))) this.retryUnschedulable();
  }

  private retryUnschedulable(): void {
    for (const key of this.unschedulable.keys()) this.loop.enqueue(key);
  }

  private schedule(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const pod = this.store.peek("pods", namespace, name);
    if (!pod || !needsScheduling(pod)) {
      this.unschedulable.delete(key);
      return;
    }
    const placement = this.place(pod);
    if ("node" in placement) this.bind(key, pod, placement.node);
    else this.reportUnschedulable(key, pod, placement.message);
  }

  private bind(key: string, pod: SharedObject, node: string): void {
    const { namespace, name } = splitObjectKey(key);
    const bound = this.store.mutate("pods", namespace, name, (current) => {
      if (!needsScheduling(current)) return;
      const spec = objectAt(current, "spec") ?? {};
      spec.nodeName = node;
      current.spec = spec;
      const status = objectAt(current, "status") ?? {};
      setCondition(status, { type: "PodScheduled", status: "True" }, null);
      current.status = status;
    });
    this.unschedulable.delete(key);
    if (bound && podNodeName(bound) === node) {
      recordEvent(this.store, pod, "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${node}`, SCHEDULER_NAME);
    }
  }

  private reportUnschedulable(key: string, pod: SharedObject, message: string): void {
    const { namespace, name } = splitObjectKey(key);
    this.store.mutate("pods", namespace, name, (current) => {
      const status = objectAt(current, "status") ?? {};
      setCondition(status, { type: "PodScheduled", status: "False", reason: "Unschedulable", message }, null);
      current.status = status;
    });
    if (this.unschedulable.get(key) !== message) {
      recordEvent(this.store, pod, "Warning", "FailedScheduling", message, SCHEDULER_NAME);
    }
    this.unschedulable.set(key, message);
  }

  private place(pod: SharedObject): Placement {
    const nodes = this.store.scan("nodes");
    const count = nodes.length;
    if (count === 0) return { message: "no nodes available to schedule pods" };
    const missingClaim = this.missingClaim(pod);
    if (missingClaim) {
      return { message: `0/${count} nodes are available: persistentvolumeclaim "${missingClaim}" not found. ${preemptionSummary(count, 0)}` };
    }

    const request = podRequests(pod);
    const reasons = new Map<string, number>();
    let resolvable = 0;
    let best: { node: string; score: number; pods: number } | undefined;
    for (const node of nodes) {
      const nodeName = node.metadata.name ?? "";
      const used = this.usage.of(nodeName);
      const rejection = rejectionBy(node, pod, request, used);
      if (rejection) {
        for (const reason of rejection.reasons) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        if (rejection.resolvable) resolvable++;
        continue;
      }
      const score = loadAfter(node, request, used);
      if (!best || score < best.score || (score === best.score && used.pods < best.pods)) {
        best = { node: nodeName, score, pods: used.pods };
      }
    }
    if (best) return best;
    return { message: `0/${count} nodes are available: ${histogram(reasons)}. ${preemptionSummary(count, resolvable)}` };
  }

  /** The first claim the pod mounts that does not exist (any existing claim counts as bound). */
  private missingClaim(pod: SharedObject): string | undefined {
    for (const volume of objectsAt(objectAt(pod, "spec"), "volumes")) {
      const claimName = stringAt(objectAt(volume, "persistentVolumeClaim"), "claimName");
      if (claimName && !this.store.peek("persistentvolumeclaims", pod.metadata.namespace, claimName)) return claimName;
    }
    return undefined;
  }
}

/** Unbound, not being deleted, not finished, and meant for this scheduler. */
function needsScheduling(pod: SharedObject): boolean {
  const spec = objectAt(pod, "spec");
  const schedulerName = stringAt(spec, "schedulerName");
  return (
    !podNodeName(pod) &&
    !pod.metadata.deletionTimestamp &&
    !isPodTerminal(pod) &&
    (schedulerName === undefined || schedulerName === SCHEDULER_NAME)
  );
}

function allocatable(node: SharedObject): JsonObject {
  const status = objectAt(node, "status");
  return objectAt(status, "allocatable") ?? objectAt(status, "capacity") ?? {};
}

function taintsOf(node: SharedObject): Taint[] {
  const taints = objectsAt(objectAt(node, "spec"), "taints").map((taint) => ({
    key: stringAt(taint, "key") ?? "",
    value: stringAt(taint, "value") ?? "",
    effect: stringAt(taint, "effect") ?? "",
  }));
  // The node lifecycle controller taints a node that is not Ready.
  if (!isConditionTrue(objectAt(node, "status"), "Ready") && !taints.some((taint) => taint.key === "node.kubernetes.io/not-ready")) {
    taints.push({ key: "node.kubernetes.io/not-ready", value: "", effect: "NoSchedule" });
  }
  return taints;
}

function tolerates(tolerations: JsonObject[], taint: Taint): boolean {
  return tolerations.some((toleration) => {
    const effect = stringAt(toleration, "effect") ?? "";
    if (effect !== "" && effect !== taint.effect) return false;
    const key = stringAt(toleration, "key") ?? "";
    if ((stringAt(toleration, "operator") ?? "Equal") === "Exists") return key === "" || key === taint.key;
    return key === taint.key && (stringAt(toleration, "value") ?? "") === taint.value;
  });
}

/**
 * Why this node cannot take the pod, checked in the default scheduler's filter order (the first
 * failing filter decides, except that every short resource is named), or undefined if it fits.
 */
function rejectionBy(
  node: SharedObject,
  pod: SharedObject,
  request: Amounts,
  used: NodeLoad,
): NodeRejection | undefined {
  const spec = objectAt(pod, "spec");
  const tolerations = objectsAt(spec, "tolerations");
  if (
    objectAt(node, "spec")?.unschedulable === true &&
    !tolerates(tolerations, { key: "node.kubernetes.io/unschedulable", value: "", effect: "NoSchedule" })
  ) {
    return { reasons: ["node(s) were unschedulable"], resolvable: false };
  }
  const untolerated = taintsOf(node).find(
    (taint) => (taint.effect === "NoSchedule" || taint.effect === "NoExecute") && !tolerates(tolerations, taint),
  );
  if (untolerated) {
    return { reasons: [`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value}}`], resolvable: false };
  }
  const labels = node.metadata.labels ?? {};
  const selectorMisses = Object.entries(stringMapAt(spec, "nodeSelector")).some(([key, value]) => labels[key] !== value);
  if (selectorMisses || !requiredNodeAffinityMatches(spec, node.metadata.name ?? "", labels)) {
    return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  }
  const capacity = allocatable(node);
  const reasons: string[] = [];
  if (capacity.pods === undefined || used.pods + 1 > toMilli(capacity.pods) / 1000) reasons.push("Too many pods");
  for (const [resource, amount] of request) {
    const free = (capacity[resource] === undefined ? 0 : toMilli(capacity[resource])) - (used.amounts.get(resource) ?? 0);
    if (amount > 0 && amount > free) reasons.push(`Insufficient ${resource}`);
  }
  return reasons.length > 0 ? { reasons, resolvable: true } : undefined;
}

/** Mean share of cpu and memory the node would have committed with the pod on it (lower is emptier). */
function loadAfter(node: SharedObject, request: Amounts, used: { amounts: Amounts }): number {
  const capacity = allocatable(node);
  const shares: number[] = [];
  for (const resource of ["cpu", "memory"]) {
    const total = capacity[resource] === undefined ? 0 : toMilli(capacity[resource]);
    if (total > 0) shares.push(((used.amounts.get(resource) ?? 0) + (request.get(resource) ?? 0)) / total);
  }
  return shares.length === 0 ? 0 : shares.reduce((sum, share) => sum + share, 0) / shares.length;
}

/** `2 Insufficient cpu, 1 node(s) were unschedulable`: counts per reason, sorted as text (as the scheduler does). */
function histogram(reasons: Map<string, number>): string {
  return [...reasons]
    .map(([reason, count]) => `${count} ${reason}`)
    .sort()
    .join(", ");
}

function preemptionSummary(nodeCount: number, resolvable: number): string {
  const outcomes = new Map<string, number>();
  if (resolvable > 0) outcomes.set(NO_VICTIMS, resolvable);
  if (nodeCount - resolvable > 0) outcomes.set(NOT_HELPFUL, nodeCount - resolvable);
  return `preemption: 0/${nodeCount} nodes are available: ${histogram(outcomes)}.`;
}
