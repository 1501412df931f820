import type { ApiFaultRule, FaultResponse, FaultRules, RequestMatch, Verb, WatchCutRule } from "../faults.ts";
import type { OpenWatchAction } from "../faults-open-watches.ts";
import type { RequestAccounting } from "./accounting.ts";
import type { HandlerResult } from "./handlers.ts";
import type { JsonObject } from "./json.ts";
import { isObject, numberAt, stringAt } from "./json.ts";
import { ApiError, badRequest, methodNotAllowed, notFoundPath } from "./status.ts";

/** Actions on running things, wired to the kubelet and the node list by the cluster. */
export interface SimFaultActions {
  oomKill(namespace: string, pod: string, container?: string): void;
  evictPod(namespace: string, pod: string): void;
  removeNode(name: string): void;
}

const VERBS: readonly Verb[] = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

/** A misspelt field must not silently widen a rule (a rule without `resource` matches every resource). */
function rejectUnknownKeys(body: JsonObject, noun: string, known: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw badRequest(`unknown ${noun}(s): ${unknown.join(", ")}; known: ${known.join(", ")}`);
}

function requestMatch(body: JsonObject, what: string): RequestMatch {
  const verb = body.verb;
  if (verb !== undefined && !VERBS.some((v) => v === verb)) throw badRequest(`${what}.verb: unknown verb ${JSON.stringify(verb)}`);
  const resource = body.resource;
  if (resource !== undefined && typeof resource !== "string") throw badRequest(`${what}.resource must be a string`);
  return { verb: VERBS.find((v) => v === verb), resource };
}

function optionalNumber(body: JsonObject, key: string, what: string): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw badRequest(`${what}.${key} must be a non-negative number`);
  return value;
}

function faultResponse(value: unknown): FaultResponse {
  if (!isObject(value)) throw badRequest("failRequests.response must be an object");
  if (value.kind === "drop") return { kind: "drop" };
  const status = value.status;
  if (value.kind === "status" && (status === 500 || status === 503 || status === 429)) {
    const retryAfterSeconds = optionalNumber(value, "retryAfterSeconds", "failRequests.response");
    return { kind: "status", status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
  }
  throw badRequest('failRequests.response must be {"kind":"drop"} or {"kind":"status","status":500|503|429}');
}

function objectField(body: JsonObject, key: string, known: readonly string[]): JsonObject {
  const value = body[key];
  if (!isObject(value)) throw badRequest(`${key} must be an object`);
  rejectUnknownKeys(value, `${key} field`, known);
  return value;
}

function podTarget(body: JsonObject, key: "oomKill" | "evictPod"): { namespace: string; pod: string; container: string | undefined } {
  const value = objectField(body, key, key === "oomKill" ? ["namespace", "pod", "container"] : ["namespace", "pod"]);
  const namespace = stringAt(value, "namespace");
  const pod = stringAt(value, "pod");
  if (!namespace || !pod) throw badRequest(`${key} needs "namespace" and "pod"`);
  return { namespace, pod, container: stringAt(value, "container") };
}

const OPEN_WATCH_ACTIONS = {
  dropOpenWatches: "drop",
  holdOpenWatches: "hold",
  releaseOpenWatches: "release",
  expireOpenWatches: "expire",
} as const satisfies Record<string, OpenWatchAction>;

/** What applying an instruction did that the caller may want to know. */
export interface FaultOutcome {
  /** How many open watches an open-watch action (drop, hold, release, expire) reached. */
  openWatches?: number;
}

/**
 * Applies one `POST /_sim/faults` body. Each key is one instruction; several may be combined.
 * Unknown keys are rejected so a typo does not silently inject nothing.
 */
export function applyFaultInstruction(body: unknown, faults: FaultRules, actions: SimFaultActions | undefined): FaultOutcome {
  if (!isObject(body)) throw badRequest("the fault instruction must be a JSON object");
  const known = [
    "clear", "failRequests", "latency", "cutWatches", "goneOnNextWatch", "statusLagMs",
    "holdInContainerCreating", "releaseContainerCreating", "oomKill", "evictPod", "removeNode",
    ...Object.keys(OPEN_WATCH_ACTIONS), "holdAllWatches",
  ];
  rejectUnknownKeys(body, "fault instruction", known);
  if (body.clear !== undefined && body.clear !== true) throw badRequest("clear must be true");
  if (body.clear === true) faults.clear();
  if (body.failRequests !== undefined) {
    const rule = objectField(body, "failRequests", ["verb", "resource", "response", "count", "fraction"]);
    const fraction = optionalNumber(rule, "fraction", "failRequests");
    if (fraction !== undefined && fraction > 1) throw badRequest("failRequests.fraction must be between 0 and 1");
    const count = optionalNumber(rule, "count", "failRequests");
    const parsed: ApiFaultRule = { ...requestMatch(rule, "failRequests"), response: faultResponse(rule.response) };
    if (count !== undefined) parsed.count = count;
    if (fraction !== undefined) parsed.fraction = fraction;
    faults.failRequests(parsed);
  }
  if (body.latency !== undefined) {
    const rule = objectField(body, "latency", ["verb", "resource", "ms"]);
    const ms = optionalNumber(rule, "ms", "latency");
    if (ms === undefined) throw badRequest("latency.ms is required");
    faults.addLatency({ ...requestMatch(rule, "latency"), ms });
  }
  if (body.cutWatches !== undefined) {
    const rule = objectField(body, "cutWatches", ["resource", "afterEvents", "afterMs", "count"]);
    const cut: WatchCutRule = {};
    const resource = rule.resource;
    if (resource !== undefined && typeof resource !== "string") throw badRequest("cutWatches.resource must be a string");
    if (resource !== undefined) cut.resource = resource;
    for (const key of ["afterEvents", "afterMs", "count"] as const) {
      const value = optionalNumber(rule, key, "cutWatches");
      if (value !== undefined) cut[key] = value;
    }
    if (cut.afterEvents === undefined && cut.afterMs === undefined) throw badRequest("cutWatches needs afterEvents or afterMs");
    faults.cutWatches(cut);
  }
  if (body.goneOnNextWatch !== undefined) {
    const resource = body.goneOnNextWatch;
    if (resource !== true && typeof resource !== "string") throw badRequest('goneOnNextWatch must be a resource name or true');
    faults.goneOnNextWatch(resource === true ? undefined : resource);
  }
  if (body.statusLagMs !== undefined) {
    const lag = numberAt(body, "statusLagMs");
    if (lag === undefined || lag < 0) throw badRequest("statusLagMs must be a non-negative number");
    faults.statusLagMs = lag;
  }
  for (const key of ["holdInContainerCreating", "releaseContainerCreating"] as const) {
    const podKey = body[key];
    if (podKey === undefined) continue;
    // A key that can never match (no namespace part, no wildcard) would hold nothing, silently.
    if (typeof podKey !== "string" || !(podKey.includes("/") || podKey.endsWith("*"))) {
      throw badRequest(`${key} must be "namespace/name" or a prefix ending in *, got ${JSON.stringify(podKey)}`);
    }
    if (key === "holdInContainerCreating") faults.holdInContainerCreating(podKey);
    else faults.releaseContainerCreating(podKey);
  }
  /** Runs a pod or node action; its target not being there (or not running) is a 404 naming it. */
  const act = (run: (actions: SimFaultActions) => void) => {
    if (!actions) throw badRequest("pod and node actions need a running cluster (kubelet and nodes)");
    try {
      run(actions);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(404, "NotFound", error instanceof Error ? error.message : String(error));
    }
  };
  if (body.oomKill !== undefined) {
    const { namespace, pod, container } = podTarget(body, "oomKill");
    act((a) => a.oomKill(namespace, pod, container));
  }
  if (body.evictPod !== undefined) {
    const { namespace, pod } = podTarget(body, "evictPod");
    act((a) => a.evictPod(namespace, pod));
  }
  const removeNode = body.removeNode;
  if (removeNode !== undefined) {
    if (typeof removeNode !== "string") throw badRequest("removeNode must be a node name");
    act((a) => a.removeNode(removeNode));
  }
  const outcome: FaultOutcome = {};
  const watchFaults: [string, (resource: string | undefined) => number][] = [
    ...Object.entries(OPEN_WATCH_ACTIONS).map(([key, action]): [string, (resource: string | undefined) => number] => [
      key,
      (resource) => faults.actOnOpenWatches(action, resource),
    ]),
    ["holdAllWatches", (resource) => faults.holdAllWatches(resource)],
  ];
  for (const [key, run] of watchFaults) {
    const resource = body[key];
    if (resource === undefined) continue;
    if (resource !== true && typeof resource !== "string") throw badRequest(`${key} must be a resource name or true`);
    outcome.openWatches = (outcome.openWatches ?? 0) + run(resource === true ? undefined : resource);
  }
  return outcome;
}

/** `/_sim/requests` (GET snapshot, DELETE reset) and `/_sim/faults` (POST instruction). */
export function handleSimEndpoint(
  method: string,
  path: string,
  body: unknown,
  deps: { faults: FaultRules; requests: RequestAccounting; actions: SimFaultActions | undefined },
): HandlerResult {
  if (path === "/_sim/requests") {
    if (method === "GET") return { code: 200, body: deps.requests.snapshot() };
    if (method === "DELETE") {
      deps.requests.reset();
      return { code: 200, body: deps.requests.snapshot() };
    }
    throw methodNotAllowed();
  }
  if (path === "/_sim/faults") {
    if (method !== "POST") throw methodNotAllowed();
    const outcome = applyFaultInstruction(body, deps.faults, deps.actions);
    return { code: 200, body: { applied: true, ...outcome } };
  }
  throw notFoundPath();
}
