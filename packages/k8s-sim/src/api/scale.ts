import type { K8sObject } from "../store.ts";
import { isObject, numberAt, objectAt, objectsAt, stringAt, stringMapAt } from "./json.ts";

/** A label selector as the text form Scale's `status.selector` carries (`app=web,tier in (a,b)`). */
function selectorText(selector: ReturnType<typeof objectAt>): string {
  const parts = Object.entries(stringMapAt(selector, "matchLabels")).map(([key, value]) => `${key}=${value}`);
  for (const expression of objectsAt(selector, "matchExpressions")) {
    const key = stringAt(expression, "key") ?? "";
    const values = Array.isArray(expression.values) ? expression.values.map(String).sort().join(",") : "";
    const operator = stringAt(expression, "operator");
    if (operator === "In") parts.push(`${key} in (${values})`);
    else if (operator === "NotIn") parts.push(`${key} notin (${values})`);
    else if (operator === "Exists") parts.push(key);
    else if (operator === "DoesNotExist") parts.push(`!${key}`);
  }
  return parts.sort().join(",");
}

/** The autoscaling/v1 Scale of a Deployment or ReplicaSet (its `scale` subresource). */
export function toScale(object: K8sObject): K8sObject {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: numberAt(objectAt(object, "spec"), "replicas") ?? 0 },
    status: { replicas: numberAt(objectAt(object, "status"), "replicas") ?? 0, selector: selectorText(objectAt(objectAt(object, "spec"), "selector")) },
  };
}

/** `spec.replicas` a Scale body asks for, or undefined when it is not a non-negative integer. */
export function requestedReplicas(scale: unknown): number | undefined {
  const replicas = isObject(scale) ? objectAt(scale, "spec")?.replicas : undefined;
  return typeof replicas === "number" && Number.isInteger(replicas) && replicas >= 0 ? replicas : undefined;
}
