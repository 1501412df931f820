import type { JsonObject } from "../api/json.ts";
import { isObject, objectAt, stringAt } from "../api/json.ts";
import type { FieldError } from "../api/status.ts";
import { fieldInvalid, fieldNotSupported, fieldRequired } from "../api/validation.ts";
import type { K8sObject } from "../store.ts";

/** RBAC object names are path segments (`system:discovery` is fine), not DNS names. */
export function pathSegmentNameErrors(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  return ["/", "%"].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

function validateRules(rules: unknown): FieldError[] {
  if (!Array.isArray(rules)) return [];
  return rules.flatMap((rule: unknown, i) => {
    const field = `rules[${i}]`;
    if (!isObject(rule)) return [fieldInvalid(field, rule, "must be an object")];
    const errors: FieldError[] = [];
    if (!Array.isArray(rule.verbs) || rule.verbs.length === 0) errors.push(fieldRequired(`${field}.verbs`, "verbs must contain at least one value"));
    const nonResource = Array.isArray(rule.nonResourceURLs) && rule.nonResourceURLs.length > 0;
    if (nonResource && Array.isArray(rule.resources) && rule.resources.length > 0) {
      errors.push(fieldInvalid(`${field}.nonResourceURLs`, rule.nonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"));
    }
    if (!nonResource && (!Array.isArray(rule.apiGroups) || rule.apiGroups.length === 0)) {
      errors.push(fieldRequired(`${field}.apiGroups`, "resource rules must supply at least one api group"));
    }
    if (!nonResource && (!Array.isArray(rule.resources) || rule.resources.length === 0)) {
      errors.push(fieldRequired(`${field}.resources`, "resource rules must supply at least one resource"));
    }
    return errors;
  });
}

function validateBinding(binding: K8sObject, clusterWide: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const roleRef = objectAt(binding, "roleRef");
  const kinds = clusterWide ? ["ClusterRole"] : ["Role", "ClusterRole"];
  const kind = stringAt(roleRef, "kind");
  if (!kind || !kinds.includes(kind)) errors.push(fieldNotSupported("roleRef.kind", kind ?? "", kinds));
  if (stringAt(roleRef, "apiGroup") !== "rbac.authorization.k8s.io") {
    errors.push(fieldNotSupported("roleRef.apiGroup", stringAt(roleRef, "apiGroup") ?? "", ["rbac.authorization.k8s.io"]));
  }
  if (!stringAt(roleRef, "name")) errors.push(fieldRequired("roleRef.name"));
  const subjects: unknown[] = Array.isArray(binding.subjects) ? binding.subjects : [];
  subjects.forEach((subject: unknown, i) => {
    const field = `subjects[${i}]`;
    const entry: JsonObject = isObject(subject) ? subject : {};
    const subjectKind = stringAt(entry, "kind") ?? "";
    if (!["ServiceAccount", "User", "Group"].includes(subjectKind)) errors.push(fieldNotSupported(`${field}.kind`, subjectKind, ["ServiceAccount", "User", "Group"]));
    if (!stringAt(entry, "name")) errors.push(fieldRequired(`${field}.name`));
    if (subjectKind === "ServiceAccount" && clusterWide && !stringAt(entry, "namespace")) errors.push(fieldRequired(`${field}.namespace`));
  });
  return errors;
}

/** Field problems of a Role, ClusterRole, RoleBinding or ClusterRoleBinding (besides metadata). */
export function validateRbacObject(resource: string, object: K8sObject): FieldError[] {
  switch (resource) {
    case "roles":
    case "clusterroles":
      return validateRules(object.rules);
    case "rolebindings":
      return validateBinding(object, false);
    case "clusterrolebindings":
      return validateBinding(object, true);
    default:
      return [];
  }
}

/** A binding's roleRef cannot change: delete and re-create it instead. */
export function validateRbacUpdate(resource: string, current: K8sObject, next: K8sObject): FieldError[] {
  if (resource !== "rolebindings" && resource !== "clusterrolebindings") return [];
  return JSON.stringify(current.roleRef) === JSON.stringify(next.roleRef) ? [] : [fieldInvalid("roleRef", next.roleRef ?? null, "cannot change roleRef")];
}
