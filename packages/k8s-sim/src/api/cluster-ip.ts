import type { K8sObject, ObjectStore } from "../store.ts";
import type { JsonObject } from "./json.ts";
import { child, objectAt, stringAt } from "./json.ts";
import type { FieldError } from "./status.ts";
import { fieldInvalid } from "./validation.ts";

/**
 * The sim's service CIDR. It lies inside 127.0.0.0/8, which Linux routes to loopback as a whole,
 * so every ClusterIP is an address this machine can listen on and pods (local processes) can
 * reach: the service proxy listens on `<clusterIP>:<port>` and forwards to a ready backend.
 */
const SERVICE_PREFIX = "127.96";
const SERVICE_CIDR = `${SERVICE_PREFIX}.0.0/16`;
/** Low addresses stay free, as the real allocator keeps the first for the `kubernetes` Service. */
const FIRST_HOST = 10;
const HOSTS = 256 * 256 - 1;

function hostAddress(n: number): string {
  return `${SERVICE_PREFIX}.${Math.floor(n / 256)}.${n % 256}`;
}

function inServiceCidr(ip: string): boolean {
  const match = /^127\.96\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  return match !== null && Number(match[1]) < 256 && Number(match[2]) < 256;
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
  const used = allocated(store);
  if (requested === "None") {
    spec.clusterIPs = ["None"];
    return [];
  }
  if (requested !== "") {
    if (!inServiceCidr(requested)) {
      return [fieldInvalid("spec.clusterIPs", [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`)];
    }
    if (used.has(requested)) {
      return [fieldInvalid("spec.clusterIPs", [requested], `failed to allocate IP ${requested}: provided IP is already allocated`)];
    }
  } else {
    let found: string | undefined;
    for (let n = FIRST_HOST; n < HOSTS && !found; n++) if (!used.has(hostAddress(n))) found = hostAddress(n);
    if (!found) return [fieldInvalid("spec.clusterIPs", [], `failed to allocate a serviceIP: range is full`)];
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
