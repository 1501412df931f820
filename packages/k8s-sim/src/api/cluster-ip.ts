import { randomInt } from "node:crypto";
import type { K8sObject, ObjectStore } from "../store.ts";
import type { JsonObject } from "./json.ts";
import { child, objectAt, stringAt } from "./json.ts";
import type { FieldError } from "./status.ts";
import { fieldInvalid } from "./validation.ts";

/**
 * Service ClusterIPs. Each sim draws its service range, a /24 inside 127.96.0.0/11, when it
 * starts: the whole of 127.0.0.0/8 is loopback on Linux, so every ClusterIP is an address this
 * machine can listen on and pods (local processes) can reach — the sim's kube-proxy listens on
 * `<clusterIP>:<port>` — and sims running side by side on one machine (parallel test files)
 * almost never share a range. The range is kept in the store as the cluster's ServiceCIDR
 * object `kubernetes` (as Kubernetes 1.33 keeps its own), read by the allocator below.
 */
const SERVICE_CIDR_TABLE = "servicecidrs";
const SERVICE_CIDR_NAME = "kubernetes";
/** Low addresses stay free, as the real allocator keeps the first for the `kubernetes` Service. */
const FIRST_HOST = 10;
const LAST_HOST = 254;

/** The ServiceCIDR object of a new cluster, with a random /24 of 127.96.0.0/11. */
export function randomServiceCidr(): K8sObject {
  const cidr = `127.${96 + randomInt(32)}.${randomInt(256)}.0/24`;
  return { apiVersion: "networking.k8s.io/v1", kind: "ServiceCIDR", metadata: { name: SERVICE_CIDR_NAME }, spec: { cidrs: [cidr] } };
}

export function storeServiceCidr(store: ObjectStore, cidr: K8sObject): void {
  store.create(SERVICE_CIDR_TABLE, cidr);
}

/** `127.a.b.` and `127.a.b.0/24` of the cluster's range, if it has one. */
function serviceRange(store: ObjectStore): { prefix: string; cidr: string } | undefined {
  const cidrs = objectAt(store.get(SERVICE_CIDR_TABLE, undefined, SERVICE_CIDR_NAME), "spec")?.cidrs;
  const cidr = Array.isArray(cidrs) ? String(cidrs[0]) : "";
  const match = /^(127\.\d{1,3}\.\d{1,3}\.)0\/24$/.exec(cidr);
  return match?.[1] ? { prefix: match[1], cidr } : undefined;
}

function allocated(store: ObjectStore): Set<string> {
  const used = new Set<string>();
  for (const service of store.list("services").items) {
    const ip = stringAt(objectAt(service, "spec"), "clusterIP");
    if (ip) used.add(ip);
  }
  return used;
}

/**
 * Gives a new Service its ClusterIP as the API server's allocator does: a requested one must be
 * in the range and free, `None` makes a headless Service, otherwise the next free address.
 * Returns the field errors of a bad request (the caller answers 422).
 */
export function assignClusterIp(store: ObjectStore, service: K8sObject): FieldError[] {
  const spec = child(service, "spec");
  const requested = stringAt(spec, "clusterIP") ?? "";
  if (requested === "None") {
    spec.clusterIPs = ["None"];
    return [];
  }
  const range = serviceRange(store);
  if (!range) return [fieldInvalid("spec.clusterIPs", [requested], "failed to allocate a serviceIP: the cluster has no service CIDR")];
  const used = allocated(store);
  if (requested !== "") {
    const host = requested.startsWith(range.prefix) ? Number(requested.slice(range.prefix.length)) : Number.NaN;
    if (!Number.isInteger(host) || host < 1 || host > LAST_HOST) {
      return [fieldInvalid("spec.clusterIPs", [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${range.cidr}`)];
    }
    if (used.has(requested)) {
      return [fieldInvalid("spec.clusterIPs", [requested], `failed to allocate IP ${requested}: provided IP is already allocated`)];
    }
  } else {
    let found: string | undefined;
    for (let host = FIRST_HOST; host <= LAST_HOST && !found; host++) if (!used.has(range.prefix + host)) found = range.prefix + host;
    if (!found) return [fieldInvalid("spec.clusterIPs", [], "failed to allocate a serviceIP: range is full")];
    spec.clusterIP = found;
  }
  spec.clusterIPs = [spec.clusterIP];
  spec.ipFamilies = ["IPv4"];
  spec.ipFamilyPolicy = "SingleStack";
  return [];
}

/** An update that leaves the ClusterIP out keeps the allocated one (as the API server fills it from the old object). */
export function keepClusterIp(current: K8sObject, next: K8sObject): void {
  const before = objectAt(current, "spec");
  const after: JsonObject = child(next, "spec");
  for (const key of ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"]) {
    if ((after[key] === undefined || after[key] === "") && before?.[key] !== undefined) after[key] = before[key];
  }
}
