import type { JsonObject } from "../api/json.ts";
import { objectAt, objectsAt, stringAt, stringMapAt } from "../api/json.ts";

/**
 * One `matchExpressions` entry: label selectors know In / NotIn / Exists / DoesNotExist, node
 * selector terms add Gt / Lt (integer comparison).
 */
function expressionHolds(expression: JsonObject, labels: Readonly<Record<string, string>>): boolean {
  const key = stringAt(expression, "key") ?? "";
  const values = Array.isArray(expression.values) ? expression.values.map(String) : [];
  const has = Object.hasOwn(labels, key);
  const value = labels[key] ?? "";
  switch (stringAt(expression, "operator")) {
    case "In":
      return has && values.includes(value);
    case "NotIn":
      return !has || !values.includes(value);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      if (!has || !/^-?\d+$/.test(value) || values.length !== 1) return false;
      const bound = Number(values[0]);
      return expression.operator === "Gt" ? Number(value) > bound : Number(value) < bound;
    }
    default:
      // An unknown operator never matches, as in the API machinery's selector conversion.
      return false;
  }
}

/** A `metav1.LabelSelector` (matchLabels and matchExpressions, ANDed). An empty selector matches everything. */
export function labelSelectorMatches(selector: JsonObject | undefined, labels: Readonly<Record<string, string>>): boolean {
  const matchLabels = stringMapAt(selector, "matchLabels");
  if (Object.entries(matchLabels).some(([key, value]) => labels[key] !== value)) return false;
  return objectsAt(selector, "matchExpressions").every((expression) => expressionHolds(expression, labels));
}

/**
 * Required node affinity (`requiredDuringSchedulingIgnoredDuringExecution`): the node must match
 * one of the terms; a term matches when all its matchExpressions (on labels) and matchFields (on
 * `metadata.name`) hold. No required affinity matches every node.
 */
export function requiredNodeAffinityMatches(podSpec: JsonObject | undefined, nodeName: string, nodeLabels: Readonly<Record<string, string>>): boolean {
  const required = objectAt(objectAt(objectAt(podSpec, "affinity"), "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution");
  if (!required) return true;
  return objectsAt(required, "nodeSelectorTerms").some((term) => {
    const expressions = objectsAt(term, "matchExpressions");
    const fields = objectsAt(term, "matchFields");
    // A term without requirements matches no node.
    if (expressions.length === 0 && fields.length === 0) return false;
    return (
      expressions.every((expression) => expressionHolds(expression, nodeLabels)) &&
      fields.every((field) => stringAt(field, "key") === "metadata.name" && expressionHolds({ ...field, key: "name" }, { name: nodeName }))
    );
  });
}
