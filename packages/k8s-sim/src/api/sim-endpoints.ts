import type { ApiFaultRule, FaultResponse, FaultRules, RequestMatch, Verb, WatchCutRule } from "../faults.ts";
import type { RequestAccounting } from "./accounting.ts";
import type { HandlerResult } from "./handlers.ts";
import type { JsonObject } from "./json.ts";
import { isObject, numberAt, stringAt } from "./json.ts";
import { badRequest, methodNotAllowed, notFoundPath } from "./status.ts";

/** Actions on running things, wired to the kubelet and the node list by the cluster. */
export interface SimFaultActions {
  oomKill(namespace: string, pod: string, container?: string): void;
  evictPod(namespace: string, pod: string): void;
  removeNode(name: string): void;
}

const VERBS: readonly Verb[] = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];

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

function objectField(body: JsonObject, key: string): JsonObject {
  const value = body[key];
  if (!isObject(value)) throw badRequest(`${key} must be an object`);
  return value;
}

function podTarget(body: JsonObject, key: string): { namespace: string; pod: string; container: string | undefined } {
  const value = objectField(body, key);
  const namespace = stringAt(value, "namespace");
  const pod = stringAt(value, "pod");
  if (!namespace || !pod) throw badRequest(`${key} needs "namespace" and "pod"`);
  return { namespace, pod, container: stringAt(value, "container") };
}

/**
 * Applies one `POST /_sim/faults` body. Each key is one instruction; several may be combined.
 * Unknown keys are rejected so a typo does not silently inject nothing.
 */
export function applyFaultInstruction(body: unknown, faults: FaultRules, actions: SimFaultActions | undefined): void {
  if (!isObject(body)) throw badRequest("the fault instruction must be a JSON object");
  const known = [
    "clear", "failRequests", "latency", "cutWatches", "goneOnNextWatch", "statusLagMs",
    "holdInContainerCreating", "releaseContainerCreating", "oomKill", "evictPod", "removeNode",
  ];
  const unknown = Object.keys(body).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw badRequest(`unknown fault instruction(s): ${unknown.join(", ")}; known: ${known.join(", ")}`);
  if (body.clear === true) faults.clear();
  if (body.failRequests !== undefined) {
    const rule = objectField(body, "failRequests");
    const fraction = optionalNumber(rule, "fraction", "failRequests");
    if (fraction !== undefined && fraction > 1) throw badRequest("failRequests.fraction must be between 0 and 1");
    const count = optionalNumber(rule, "count", "failRequests");
    const parsed: ApiFaultRule = { ...requestMatch(rule, "failRequests"), response: faultResponse(rule.response) };
    if (count !== undefined) parsed.count = count;
    if (fraction !== undefined) parsed.fraction = fraction;
    faults.failRequests(parsed);
  }
  if (body.latency !== undefined) {
    const rule = objectField(body, "latency");
    const ms = optionalNumber(rule, "ms", "latency");
    if (ms === undefined) throw badRequest("latency.ms is required");
    faults.addLatency({ ...requestMatch(rule, "latency"), ms });
  }
  if (body.cutWatches !== undefined) {
    const rule = objectField(body, "cutWatches");
    const cut: WatchCutRule = {};
    const resource = stringAt(rule, "resource");
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
    if (typeof podKey !== "string") throw badRequest(`${key} must be "namespace/name" or a prefix ending in *`);
    if (key === "holdInContainerCreating") faults.holdInContainerCreating(podKey);
    else faults.releaseContainerCreating(podKey);
  }
  const needActions = () => {
    if (!actions) throw badRequest("pod and node actions need a running cluster (kubelet and nodes)");
    return actions;
  };
  if (body.oomKill !== undefined) {
    const { namespace, pod, container } = podTarget(body, "oomKill");
    needActions().oomKill(namespace, pod, container);
  }
  if (body.evictPod !== undefined) {
    const { namespace, pod } = podTarget(body, "evictPod");
    needActions().evictPod(namespace, pod);
  }
  if (body.removeNode !== undefined) {
    if (typeof body.removeNode !== "string") throw badRequest("removeNode must be a node name");
    needActions().removeNode(body.removeNode);
  }
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
    applyFaultInstruction(body, deps.faults, deps.actions);
    return { code: 200, body: { applied: true } };
  }
  throw notFoundPath();
}
