import type { HandlerResult } from "../api/handlers.ts";
import type { JsonObject } from "../api/json.ts";
import { isObject, objectAt } from "../api/json.ts";
import { ApiError } from "../api/status.ts";
import type { ObjectStore } from "../store.ts";
import type { RequestAttributes } from "./rbac.ts";
import { authorize, rulesFor } from "./rbac.ts";
import type { UserInfo } from "./user.ts";

const text = (object: JsonObject, key: string) => (typeof object[key] === "string" ? object[key] : "");

function attributesOf(spec: JsonObject | undefined): RequestAttributes {
  const resource = objectAt(spec, "resourceAttributes");
  const nonResource = objectAt(spec, "nonResourceAttributes");
  if ((resource === undefined) === (nonResource === undefined)) {
    const message = `spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`;
    throw new ApiError(422, "Invalid", `SelfSubjectAccessReview.authorization.k8s.io "" is invalid: ${message}`, {
      group: "authorization.k8s.io",
      kind: "SelfSubjectAccessReview",
      causes: [{ reason: "FieldValueInvalid", message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', field: "spec.resourceAttributes" }],
    });
  }
  if (nonResource) return { kind: "nonResource", verb: text(nonResource, "verb"), path: text(nonResource, "path") };
  const attributes = resource ?? {};
  return {
    kind: "resource",
    verb: text(attributes, "verb"),
    apiGroup: text(attributes, "group"),
    resource: text(attributes, "resource"),
    subresource: text(attributes, "subresource") || undefined,
    name: text(attributes, "name") || undefined,
    namespace: text(attributes, "namespace") || undefined,
  };
}

/** SelfSubjectAccessReview: what RBAC says about the caller (after impersonation) doing what the spec asks. */
export function reviewAccess(store: ObjectStore, user: UserInfo, body: unknown): HandlerResult {
  const review = isObject(body) ? body : {};
  const spec = objectAt(review, "spec");
  const decision = authorize(store, user, attributesOf(spec));
  return {
    code: 201,
    body: {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec: spec ?? {},
      status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
    },
  };
}

/** SelfSubjectRulesReview (`kubectl auth can-i --list`): every rule RBAC grants the caller in the namespace. */
export function reviewRules(store: ObjectStore, user: UserInfo, body: unknown): HandlerResult {
  const spec = objectAt(isObject(body) ? body : {}, "spec") ?? {};
  const namespace = text(spec, "namespace") || undefined;
  const rules = rulesFor(store, user, namespace);
  const nonEmpty = (key: string, values: string[]) => (values.length ? { [key]: values } : {});
  return {
    code: 201,
    body: {
      kind: "SelfSubjectRulesReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec,
      status: {
        resourceRules: rules
          .filter((rule) => rule.nonResourceURLs.length === 0)
          .map((rule) => ({ verbs: rule.verbs, ...nonEmpty("apiGroups", rule.apiGroups), ...nonEmpty("resources", rule.resources), ...nonEmpty("resourceNames", rule.resourceNames) })),
        nonResourceRules: rules.filter((rule) => rule.nonResourceURLs.length > 0).map((rule) => ({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs })),
        incomplete: false,
      },
    },
  };
}

/** SelfSubjectReview (`kubectl auth whoami`): who the API server takes the caller for. */
export function reviewSelf(user: UserInfo): HandlerResult {
  return {
    code: 201,
    body: {
      kind: "SelfSubjectReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      status: { userInfo: { username: user.username, groups: user.groups } },
    },
  };
}
