import { isObject } from "../api/json.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import type { UserInfo } from "./user.ts";
import { parseServiceAccountUsername } from "./user.ts";

/** What a request asks to do, as the API server's request-info resolver describes it. */
export type RequestAttributes =
  | { kind: "resource"; verb: string; apiGroup: string; resource: string; subresource?: string; name?: string; namespace?: string }
  | { kind: "nonResource"; verb: string; path: string };

export interface Decision {
  allowed: boolean;
  /** Why it was allowed (which binding and role), as RBAC words it; "" when denied. */
  reason: string;
}

/** Members of `system:masters` skip authorization, as on a real API server. */
const SUPERUSER_GROUP = "system:masters";

export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function rulesOf(role: K8sObject | undefined): PolicyRule[] {
  const rules = role?.rules;
  if (!Array.isArray(rules)) return [];
  return rules.filter(isObject).map((rule) => ({
    verbs: strings(rule.verbs),
    apiGroups: strings(rule.apiGroups),
    resources: strings(rule.resources),
    resourceNames: strings(rule.resourceNames),
    nonResourceURLs: strings(rule.nonResourceURLs),
  }));
}

function resourceMatches(ruleResource: string, resource: string, subresource: string | undefined): boolean {
  const requested = subresource ? `${resource}/${subresource}` : resource;
  if (ruleResource === "*" || ruleResource === requested) return true;
  if (subresource && ruleResource === `*/${subresource}`) return true;
  return ruleResource.endsWith("/*") && requested.startsWith(ruleResource.slice(0, -1));
}

function pathMatches(ruleUrl: string, path: string): boolean {
  if (ruleUrl === "*" || ruleUrl === path) return true;
  return ruleUrl.endsWith("*") && path.startsWith(ruleUrl.slice(0, -1));
}

function ruleAllows(rule: PolicyRule, attributes: RequestAttributes): boolean {
  if (!rule.verbs.includes("*") && !rule.verbs.includes(attributes.verb)) return false;
  if (attributes.kind === "nonResource") return rule.nonResourceURLs.some((url) => pathMatches(url, attributes.path));
  if (!rule.apiGroups.includes("*") && !rule.apiGroups.includes(attributes.apiGroup)) return false;
  if (!rule.resources.some((resource) => resourceMatches(resource, attributes.resource, attributes.subresource))) return false;
  return rule.resourceNames.length === 0 || (attributes.name !== undefined && rule.resourceNames.includes(attributes.name));
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

/** The subject of a binding that names this user, if any (a ServiceAccount subject's namespace defaults to the binding's). */
function matchingSubject(binding: K8sObject, user: UserInfo): Subject | undefined {
  const subjects = Array.isArray(binding.subjects) ? binding.subjects.filter(isObject) : [];
  const account = parseServiceAccountUsername(user.username);
  for (const subject of subjects) {
    const kind = String(subject.kind ?? "");
    const name = String(subject.name ?? "");
    const namespace = typeof subject.namespace === "string" && subject.namespace !== "" ? subject.namespace : binding.metadata.namespace;
    if (kind === "User" && name === user.username) return { kind, name };
    if (kind === "Group" && user.groups.includes(name)) return { kind, name };
    if (kind === "ServiceAccount" && account && account.name === name && account.namespace === namespace) return { kind, name, namespace };
  }
  return undefined;
}

function describeSubject(subject: Subject): string {
  return subject.kind === "ServiceAccount" ? `ServiceAccount "${subject.name}/${subject.namespace ?? ""}"` : `${subject.kind} "${subject.name}"`;
}

interface Grant {
  rules: PolicyRule[];
  /** `RBAC: allowed by ...`: which binding of which role to which subject. */
  reason: string;
}

/**
 * Every grant that applies to the user in `namespace` (cluster-wide ones only when undefined):
 * ClusterRoleBindings grant their ClusterRole everywhere, RoleBindings grant a Role (of their
 * namespace) or a ClusterRole inside their namespace only.
 */
function* grants(store: ObjectStore, user: UserInfo, namespace: string | undefined): Generator<Grant> {
  for (const binding of store.list("clusterrolebindings").items) {
    const subject = matchingSubject(binding, user);
    const roleRef = isObject(binding.roleRef) ? binding.roleRef : {};
    if (!subject || roleRef.kind !== "ClusterRole") continue;
    const roleName = String(roleRef.name ?? "");
    yield {
      rules: rulesOf(store.get("clusterroles", undefined, roleName)),
      reason: `RBAC: allowed by ClusterRoleBinding "${binding.metadata.name ?? ""}" of ClusterRole "${roleName}" to ${describeSubject(subject)}`,
    };
  }
  if (namespace === undefined) return;
  for (const binding of store.list("rolebindings", { namespace }).items) {
    const subject = matchingSubject(binding, user);
    const roleRef = isObject(binding.roleRef) ? binding.roleRef : {};
    if (!subject || (roleRef.kind !== "Role" && roleRef.kind !== "ClusterRole")) continue;
    const roleName = String(roleRef.name ?? "");
    const role = roleRef.kind === "Role" ? store.get("roles", namespace, roleName) : store.get("clusterroles", undefined, roleName);
    yield {
      rules: rulesOf(role),
      reason: `RBAC: allowed by RoleBinding "${binding.metadata.name ?? ""}/${namespace}" of ${String(roleRef.kind)} "${roleName}" to ${describeSubject(subject)}`,
    };
  }
}

/** RBAC as the API server enforces it: nothing is allowed unless a rule of a grant allows it. */
export function authorize(store: ObjectStore, user: UserInfo, attributes: RequestAttributes): Decision {
  if (user.groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: "" };
  for (const grant of grants(store, user, attributes.kind === "resource" ? attributes.namespace : undefined)) {
    if (grant.rules.some((rule) => ruleAllows(rule, attributes))) return { allowed: true, reason: grant.reason };
  }
  return { allowed: false, reason: "" };
}

/** Every rule that applies to the user in a namespace: what SelfSubjectRulesReview (`kubectl auth can-i --list`) lists. */
export function rulesFor(store: ObjectStore, user: UserInfo, namespace: string | undefined): PolicyRule[] {
  return [...grants(store, user, namespace)].flatMap((grant) => grant.rules);
}

/** The message of the 403 a refused request gets, word for word as the API server writes it. */
export function forbiddenMessage(user: UserInfo, attributes: RequestAttributes): string {
  if (attributes.kind === "nonResource") return `forbidden: User "${user.username}" cannot ${attributes.verb} path "${attributes.path}"`;
  const { verb, apiGroup, resource, subresource, name, namespace } = attributes;
  const qualified = apiGroup ? `${resource}.${apiGroup}` : resource;
  const object = name ? `${qualified} "${name}"` : qualified;
  const scope = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
  const requested = subresource ? `${resource}/${subresource}` : resource;
  return `${object} is forbidden: User "${user.username}" cannot ${verb} resource "${requested}" in API group "${apiGroup}" ${scope}`;
}
