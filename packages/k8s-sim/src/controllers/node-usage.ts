import type { JsonObject } from "../api/json.ts";
import { objectAt, objectsAt } from "../api/json.ts";
import { parseQuantity } from "../kubelet/quantity.ts";
import type { SharedObject, StoreEvent } from "../store.ts";
import { isPodTerminal, podNodeName } from "./pods.ts";
import { objectKey } from "./reconcile-loop.ts";

/** Resource amounts in thousandths (millicores, millibytes), so sums and comparisons are exact. */
export type Amounts = Map<string, number>;

/** What the pods bound to one node and not yet finished request, and how many they are. */
export interface NodeLoad {
  amounts: Amounts;
  pods: number;
}

export function toMilli(quantity: unknown): number {
  if (typeof quantity === "number") return Math.round(quantity * 1000);
  if (typeof quantity === "string") return Math.round(parseQuantity(quantity) * 1000);
  throw new Error(`resource quantity must be a string or number, got ${JSON.stringify(quantity)}`);
}

function containerRequests(container: JsonObject): Amounts {
  const resources = objectAt(container, "resources");
  // A limit without a request means the request equals the limit (the API server's defaulting).
  const amounts: Amounts = new Map();
  for (const [resource, quantity] of Object.entries({ ...objectAt(resources, "limits"), ...objectAt(resources, "requests") })) {
    amounts.set(resource, toMilli(quantity));
  }
  return amounts;
}

/**
 * What the pod needs from a node, as Kubernetes computes it: the sum over its containers, raised
 * per resource to any single init container's request (they run one at a time, before the rest),
 * plus the pod's overhead.
 */
export function podRequests(pod: SharedObject): Amounts {
  const spec = objectAt(pod, "spec");
  const total: Amounts = new Map();
  for (const container of objectsAt(spec, "containers")) {
    for (const [resource, amount] of containerRequests(container)) total.set(resource, (total.get(resource) ?? 0) + amount);
  }
  for (const init of objectsAt(spec, "initContainers")) {
    for (const [resource, amount] of containerRequests(init)) total.set(resource, Math.max(total.get(resource) ?? 0, amount));
  }
  for (const [resource, quantity] of Object.entries(objectAt(spec, "overhead") ?? {})) {
    total.set(resource, (total.get(resource) ?? 0) + toMilli(quantity));
  }
  return total;
}

/**
 * Each node's load, kept up to date from pod events (the scheduler's cache): a pod counts on its node from
 * binding until it finishes or goes away, so placing a pod never scans the other pods.
 */
export class NodeUsage {
  /** Pod key → where it counts and what it requests (requests are immutable once the pod exists). */
  private readonly counted = new Map<string, { node: string; requests: Amounts }>();
  private readonly byNode = new Map<string, NodeLoad>();

  /** Call with every pod event, in order. */
  observe(event: StoreEvent): void {
    const pod = event.object;
    const key = objectKey(pod.metadata.namespace, pod.metadata.name);
    const node = podNodeName(pod);
    const counts = event.type !== "DELETED" && node !== undefined && !isPodTerminal(pod);
    const current = this.counted.get(key);
    if (current && (!counts || current.node !== node)) {
      this.counted.delete(key);
      this.add(current.node, current.requests, -1);
    }
    if (counts && (!current || current.node !== node)) {
      const requests = podRequests(pod);
      this.counted.set(key, { node, requests });
      this.add(node, requests, 1);
    }
  }

  of(node: string): NodeLoad {
    return this.byNode.get(node) ?? { amounts: new Map(), pods: 0 };
  }

  clear(): void {
    this.counted.clear();
    this.byNode.clear();
  }

  private add(node: string, requests: Amounts, sign: 1 | -1): void {
    const load = this.byNode.get(node) ?? { amounts: new Map(), pods: 0 };
    for (const [resource, amount] of requests) load.amounts.set(resource, (load.amounts.get(resource) ?? 0) + sign * amount);
    load.pods += sign;
    if (load.pods === 0) this.byNode.delete(node);
    else this.byNode.set(node, load);
  }
}
