import { applyDefaults, prepareForCreate } from "../api/defaults.ts";
import { admitPodSecurity, admitServiceAccount } from "../admission/pod-admission.ts";
import type { JsonObject } from "../api/json.ts";
import { objectAt, stringAt, stringMapAt } from "../api/json.ts";
import type { K8sObject, ObjectStore, OwnerReference } from "../store.ts";
import { StoreError, randomNameSuffix } from "../store.ts";
import { isConditionTrue } from "./conditions.ts";

export function podPhase(pod: K8sObject): string | undefined {
  return stringAt(objectAt(pod, "status"), "phase");
}

/** Succeeded or Failed: the pod will never run again. */
export function isPodTerminal(pod: K8sObject): boolean {
  const phase = podPhase(pod);
  return phase === "Succeeded" || phase === "Failed";
}

export function podNodeName(pod: K8sObject): string | undefined {
  return stringAt(objectAt(pod, "spec"), "nodeName") || undefined;
}

export function isPodReady(pod: K8sObject): boolean {
  return isConditionTrue(objectAt(pod, "status"), "Ready");
}

/** The ownerReference marked `controller: true`, if any. */
export function controllerOf(object: K8sObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((owner) => owner.controller === true);
}

/** Whether the object's controller (ownerReference with `controller: true`) has this uid. */
export function isControlledBy(pod: K8sObject, uid: string | undefined): boolean {
  return uid !== undefined && controllerOf(pod)?.uid === uid;
}

/** The API server cuts a generateName base to 58 characters so base + 5-char suffix fits 63. */
const MAX_GENERATE_NAME_BASE = 58;
const NAME_ATTEMPTS = 8;

export interface TemplatePod {
  owner: K8sObject;
  /** `spec.template` of the owner. */
  template: JsonObject | undefined;
  /** Added to the template's labels and annotations (the controller's own bookkeeping). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Creates a pod `<owner>-<5 chars>` from a controller's pod template, as the Job and ReplicaSet
 * controllers do: the template's labels and annotations, a controller ownerReference to the
 * owner, the same defaulting as a pod created through the API. A taken name is retried.
 */
export function createPodFromTemplate(store: ObjectStore, request: TemplatePod): K8sObject {
  const { owner, template } = request;
  const ownerName = owner.metadata.name ?? "";
  const namespace = owner.metadata.namespace ?? "default";
  const podSpec = objectAt(template, "spec");
  if (!podSpec) throw new Error(`${owner.kind} ${namespace}/${ownerName} has no spec.template.spec to create pods from`);
  const templateMeta = objectAt(template, "metadata");
  const generateName = `${ownerName}-`;
  for (let attempt = 0; ; attempt++) {
    const pod: K8sObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: generateName.slice(0, MAX_GENERATE_NAME_BASE) + randomNameSuffix(),
        generateName,
        namespace,
        labels: { ...stringMapAt(templateMeta, "labels"), ...request.labels },
        annotations: { ...stringMapAt(templateMeta, "annotations"), ...request.annotations },
        ownerReferences: [controllerReference(owner)],
      },
      spec: structuredClone(podSpec),
    };
    if (Object.keys(pod.metadata.annotations ?? {}).length === 0) delete pod.metadata.annotations;
    applyDefaults("pods", pod);
    prepareForCreate("pods", pod);
    // The same admission as a pod created through the API: service account, then Pod Security (a refusal becomes the owner's FailedCreate).
    admitServiceAccount(store, pod);
    admitPodSecurity(store, pod);
    try {
      return store.create("pods", pod);
    } catch (error) {
      const nameTaken = error instanceof StoreError && error.reason === "AlreadyExists";
      if (!nameTaken || attempt + 1 >= NAME_ATTEMPTS) throw error;
    }
  }
}

/** The ownerReference a controller puts on what it creates or adopts. */
export function controllerReference(owner: K8sObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? "", uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
}
