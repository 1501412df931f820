import { type OpenWatchAction, OpenWatches } from "./faults-open-watches.ts";

/** Kubernetes request verbs, as RBAC and audit logs name them. */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

/** Which requests a rule applies to; omitted fields match anything. `resource` may be `pods/log`. */
export interface RequestMatch {
  verb?: Verb;
  resource?: string;
}

export type FaultResponse =
  | { kind: "status"; status: 500 | 503 | 429; retryAfterSeconds?: number }
  | { kind: "drop" };

export interface ApiFaultRule extends RequestMatch {
  response: FaultResponse;
  /** Fail this many matching requests, then stop. Default: unlimited. */
  count?: number;
  /** Fail only this fraction (0..1) of matching requests. Default: 1. */
  fraction?: number;
}

export interface WatchCutRule {
  resource?: string;
  /** End the stream (without an ERROR event) after this many events... */
  afterEvents?: number;
  /** ...or after this many milliseconds, whichever comes first. */
  afterMs?: number;
  /** How many watches to cut. Default: unlimited. */
  count?: number;
}

interface Counted<T> {
  rule: T;
  remaining: number;
}

function matches(rule: RequestMatch, verb: Verb, resource: string): boolean {
  return (rule.verb === undefined || rule.verb === verb) && (rule.resource === undefined || rule.resource === resource);
}

/**
 * Fault rules, set by tests (programmatically) or the CLI/HTTP endpoint, and consulted by the
 * API server (request faults, latency, watch cuts, 410) and the kubelet (status lag, held pods).
 * Actions on running things (OOM kill, eviction, node removal) live on the cluster handle.
 */
export class FaultRules {
  private requestFaults: Counted<ApiFaultRule>[] = [];
  private latencies: (RequestMatch & { ms: number })[] = [];
  private watchCuts: Counted<WatchCutRule>[] = [];
  private goneResources = new Set<string>();
  private heldPods = new Set<string>();
  /** Kubelet publishes the pod's terminal phase this long before the container's terminated state. */
  statusLagMs = 0;
  /** Watch streams open right now, for the faults that act on them. */
  readonly openWatches = new OpenWatches();

  failRequests(rule: ApiFaultRule): void {
    this.requestFaults.push({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY });
  }

  addLatency(rule: RequestMatch & { ms: number }): void {
    this.latencies.push(rule);
  }

  cutWatches(rule: WatchCutRule): void {
    this.watchCuts.push({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY });
  }

  /** The next watch of this resource (any resource when omitted) is answered with 410 Gone. */
  goneOnNextWatch(resource = "*"): void {
    this.goneResources.add(resource);
  }

  /**
   * Acts on the watches of `resource` (every resource when omitted) that are open right now, and
   * returns how many: `drop` destroys their connections, `hold` keeps them connected but silent
   * (nothing sent, not even bookmarks) until `release`, `expire` sends a 410 ERROR event and ends them.
   */
  actOnOpenWatches(action: OpenWatchAction, resource?: string): number {
    return this.openWatches.act(action, resource);
  }

  /**
   * Holds every watch of `resource` (every resource when omitted), the open ones and those opened
   * later, as a proxy holding all watch bytes would; `actOnOpenWatches("release", resource)` or
   * `clear()` ends it. Returns how many open watches it reached.
   */
  holdAllWatches(resource?: string): number {
    this.openWatches.holdNew(resource);
    return this.openWatches.act("hold", resource);
  }

  /** Keep matching pods in ContainerCreating until released. Key: `namespace/name` or a name prefix ending in `*`. */
  holdInContainerCreating(podKey: string): void {
    this.heldPods.add(podKey);
  }

  releaseContainerCreating(podKey: string): void {
    this.heldPods.delete(podKey);
  }

  clear(): void {
    this.requestFaults = [];
    this.latencies = [];
    this.watchCuts = [];
    this.goneResources.clear();
    this.heldPods.clear();
    this.statusLagMs = 0;
    this.openWatches.releaseAll();
  }

  /** Called once per request: the fault to answer with, if any (consumes one count). */
  takeRequestFault(verb: Verb, resource: string): FaultResponse | undefined {
    for (const entry of this.requestFaults) {
      if (entry.remaining <= 0 || !matches(entry.rule, verb, resource)) continue;
      if (entry.rule.fraction !== undefined && Math.random() >= entry.rule.fraction) continue;
      entry.remaining--;
      return entry.rule.response;
    }
    return undefined;
  }

  latencyMs(verb: Verb, resource: string): number {
    return this.latencies.filter((rule) => matches(rule, verb, resource)).reduce((sum, rule) => sum + rule.ms, 0);
  }

  /** Called when a watch opens: how to cut it, if at all (consumes one count). */
  takeWatchCut(resource: string): WatchCutRule | undefined {
    for (const entry of this.watchCuts) {
      if (entry.remaining <= 0 || (entry.rule.resource !== undefined && entry.rule.resource !== resource)) continue;
      entry.remaining--;
      return entry.rule;
    }
    return undefined;
  }

  takeGone(resource: string): boolean {
    for (const key of [resource, "*"]) {
      if (this.goneResources.delete(key)) return true;
    }
    return false;
  }

  isHeldInContainerCreating(namespace: string, name: string): boolean {
    for (const key of this.heldPods) {
      if (key === `${namespace}/${name}`) return true;
      if (key.endsWith("*") && `${namespace}/${name}`.startsWith(key.slice(0, -1))) return true;
    }
    return false;
  }
}
