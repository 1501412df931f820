import { defaultPullPolicy, parseImageReference } from "../kubelet/images.ts";
import type { K8sObject } from "../store.ts";
import type { JsonObject } from "./json.ts";
import { child, isObject, objectAt, objectsAt, setDefault, stringAt } from "./json.ts";

/** Field defaults, as the real API server's defaulters fill them on every create and update. Mutates `object`. */
export function applyDefaults(resource: string, object: K8sObject): void {
  switch (resource) {
    case "pods":
      defaultPodSpec(child(object, "spec"), true);
      return;
    case "jobs":
      defaultJobSpec(child(object, "spec"));
      return;
    case "secrets":
      defaultSecret(object);
      return;
    case "persistentvolumeclaims": {
      const spec = child(object, "spec");
      setDefault(spec, "volumeMode", "Filesystem");
      setDefault(spec, "storageClassName", "standard");
      return;
    }
    case "deployments":
      defaultDeploymentSpec(child(object, "spec"));
      return;
    case "replicasets": {
      const spec = child(object, "spec");
      setDefault(spec, "replicas", 1);
      defaultPodSpec(child(child(spec, "template"), "spec"), false);
      return;
    }
    case "services":
      defaultServiceSpec(child(object, "spec"));
      return;
    case "networkpolicies": {
      const spec = child(object, "spec");
      setDefault(spec, "policyTypes", objectsAt(spec, "egress").length > 0 ? ["Ingress", "Egress"] : ["Ingress"]);
      return;
    }
    default:
      return;
  }
}

/** Kinds whose `metadata.generation` counts spec changes (what `status.observedGeneration` answers). */
export const GENERATION_TRACKED: ReadonlySet<string> = new Set(["jobs", "deployments", "replicasets", "networkpolicies", "poddisruptionbudgets"]);

/**
 * What registry strategies set on create only: initial status and generation, the Job's generated
 * selector and template labels, namespace lifecycle fields, claim binding. Needs `metadata.uid` already set.
 */
export function prepareForCreate(resource: string, object: K8sObject): void {
  switch (resource) {
    case "pods":
      object.status = { phase: "Pending", qosClass: qosClass(child(object, "spec")) };
      return;
    case "jobs":
      prepareJob(object);
      return;
    case "namespaces":
      object.metadata.labels = { ...object.metadata.labels, "kubernetes.io/metadata.name": object.metadata.name ?? "" };
      object.spec = { finalizers: ["kubernetes"] };
      object.status = { phase: "Active" };
      return;
    case "persistentvolumeclaims":
      bindClaim(object);
      return;
    case "deployments":
    case "replicasets":
    case "poddisruptionbudgets":
      object.metadata.generation = 1;
      object.status = {};
      return;
    case "networkpolicies":
      object.metadata.generation = 1;
      return;
    case "services":
      object.status = { loadBalancer: {} };
      return;
    default:
      return;
  }
}

function defaultDeploymentSpec(spec: JsonObject): void {
  setDefault(spec, "replicas", 1);
  const strategy = child(spec, "strategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const rollingUpdate = child(strategy, "rollingUpdate");
    setDefault(rollingUpdate, "maxUnavailable", "25%");
    setDefault(rollingUpdate, "maxSurge", "25%");
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
  defaultPodSpec(child(child(spec, "template"), "spec"), false);
}

function defaultServiceSpec(spec: JsonObject): void {
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  setDefault(spec, "internalTrafficPolicy", "Cluster");
  for (const port of objectsAt(spec, "ports")) {
    setDefault(port, "protocol", "TCP");
    setDefault(port, "targetPort", port.port);
  }
}

/** The kubelet's rule (`Always` for `:latest`); a malformed reference is the kubelet's to report. */
function pullPolicyFor(image: string | undefined): string {
  try {
    return defaultPullPolicy(parseImageReference(image ?? ""));
  } catch {
    return "IfNotPresent";
  }
}

function defaultContainer(container: JsonObject): void {
  setDefault(container, "terminationMessagePath", "/dev/termination-log");
  setDefault(container, "terminationMessagePolicy", "File");
  setDefault(container, "imagePullPolicy", pullPolicyFor(stringAt(container, "image")));
  const resources = child(container, "resources");
  const limits = objectAt(resources, "limits");
  if (limits) {
    // A limit without a request means the request equals the limit.
    const requests = child(resources, "requests");
    for (const [name, quantity] of Object.entries(limits)) setDefault(requests, name, quantity);
  }
  for (const port of objectsAt(container, "ports")) setDefault(port, "protocol", "TCP");
  for (const env of objectsAt(container, "env")) {
    const fieldRef = objectAt(objectAt(env, "valueFrom"), "fieldRef");
    if (fieldRef) setDefault(fieldRef, "apiVersion", "v1");
  }
}

/** Pod spec defaults; `isPod` adds what admission sets on real pods (not on Job templates). */
function defaultPodSpec(spec: JsonObject, isPod: boolean): void {
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "securityContext", {});
  if (isPod) {
    setDefault(spec, "serviceAccountName", "default");
    setDefault(spec, "enableServiceLinks", true);
    setDefault(spec, "priority", 0);
  }
  for (const container of [...objectsAt(spec, "initContainers"), ...objectsAt(spec, "containers")]) defaultContainer(container);
  for (const volume of objectsAt(spec, "volumes")) {
    for (const source of ["secret", "configMap"]) {
      const sourceSpec = objectAt(volume, source);
      if (sourceSpec) setDefault(sourceSpec, "defaultMode", 0o644);
    }
  }
}

/** Guaranteed when every container's cpu and memory limits equal its requests; BestEffort with none at all. */
function qosClass(spec: JsonObject): string {
  const containers = [...objectsAt(spec, "initContainers"), ...objectsAt(spec, "containers")];
  let anySet = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const resources = objectAt(container, "resources");
    const requests = objectAt(resources, "requests") ?? {};
    const limits = objectAt(resources, "limits") ?? {};
    if (Object.keys(requests).length + Object.keys(limits).length > 0) anySet = true;
    for (const name of ["cpu", "memory"]) {
      if (limits[name] === undefined || String(limits[name]) !== String(requests[name])) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

function defaultJobSpec(spec: JsonObject): void {
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  setDefault(spec, "parallelism", 1);
  setDefault(spec, "backoffLimit", 6);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", "TerminatingOrFailed");
  defaultPodSpec(child(child(spec, "template"), "spec"), false);
}

function prepareJob(job: K8sObject): void {
  const spec = child(job, "spec");
  const templateMeta = child(child(spec, "template"), "metadata");
  const templateLabels: Record<string, string> = {};
  if (isObject(templateMeta.labels)) {
    for (const [k, v] of Object.entries(templateMeta.labels)) if (typeof v === "string") templateLabels[k] = v;
  }
  // The Job inherits its template's labels when it has none of its own.
  if (Object.keys(job.metadata.labels ?? {}).length === 0 && Object.keys(templateLabels).length > 0) {
    job.metadata.labels = { ...templateLabels };
  }
  if (spec.manualSelector !== true) {
    const uid = job.metadata.uid ?? "";
    const name = job.metadata.name ?? "";
    spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
    templateMeta.labels = {
      ...templateLabels,
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": name,
      "controller-uid": uid,
      "job-name": name,
    };
  }
  job.metadata.generation = 1;
  job.status = {};
}

function defaultSecret(secret: K8sObject): void {
  setDefault(secret, "type", "Opaque");
  const stringData = objectAt(secret, "stringData");
  if (stringData) {
    const data = child(secret, "data");
    for (const [key, value] of Object.entries(stringData)) {
      if (typeof value === "string") data[key] = Buffer.from(value, "utf8").toString("base64");
    }
    delete secret.stringData;
  }
}

/** The sim provisions every claim at once: Bound, with the requested capacity. */
function bindClaim(claim: K8sObject): void {
  const spec = child(claim, "spec");
  setDefault(spec, "volumeName", `pvc-${claim.metadata.uid ?? ""}`);
  const requests = objectAt(objectAt(spec, "resources"), "requests");
  claim.status = {
    phase: "Bound",
    accessModes: spec.accessModes ?? [],
    capacity: requests?.storage === undefined ? {} : { storage: requests.storage },
  };
}
