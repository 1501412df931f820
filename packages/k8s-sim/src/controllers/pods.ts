import { objectAt, stringAt } from "../api/json.ts";
import type { K8sObject, OwnerReference } from "../store.ts";
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
