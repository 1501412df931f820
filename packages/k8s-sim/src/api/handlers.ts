import { randomUUID } from "node:crypto";
import { admitPodSecurity, admitServiceAccount, podTemplateWarnings } from "../admission/pod-admission.ts";
import type { DeleteRequest, PropagationPolicy } from "../deletion.ts";
import { PROPAGATION_POLICIES, defaultPropagationPolicy, deleteObject, removeIfFinalized } from "../deletion.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { StoreError, randomNameSuffix } from "../store.ts";
import { assignClusterIp, keepClusterIp } from "./cluster-ip.ts";
import { GENERATION_TRACKED, applyDefaults, prepareForCreate } from "./defaults.ts";
import type { JsonObject } from "./json.ts";
import { isObject, objectAt, stringAt } from "./json.ts";
import type { PatchType } from "./patch.ts";
import { applyPatch } from "./patch.ts";
import type { ResourceInfo } from "./resources.ts";
import { apiVersionOf, qualifiedResource, resourceByPlural } from "./resources.ts";
import type { ObjectFilter } from "./selectors.ts";
import type { StatusObject } from "./status.ts";
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound, successStatus } from "./status.ts";
import { requestedReplicas, toScale } from "./scale.ts";
import { fieldInvalid, fieldNotSupported, validateObject, validateUpdate } from "./validation.ts";

/** Where a resource request points: the resource, its namespace, and optionally one object and subresource. */
export interface ResourceTarget {
  resource: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

export interface HandlerResult {
  code: number;
  body: unknown;
  headers?: Record<string, string>;
}

const NAMESPACES = resourceByPlural("namespaces");

function requireNamespaceResource(): ResourceInfo {
  if (!NAMESPACES) throw new Error("the resource table has no namespaces");
  return NAMESPACES;
}

/** Translates store errors into the API's Status errors for this resource. */
export function fromStoreError(error: unknown, resource: ResourceInfo, name: string): unknown {
  if (!(error instanceof StoreError)) return error;
  if (error.code === 404) return notFound(resource, name);
  if (error.reason === "AlreadyExists") return alreadyExists(resource, name);
  if (error.code === 409) return conflict(resource, name);
  return new ApiError(error.code, error.reason, error.message);
}

function getExisting(store: ObjectStore, target: ResourceTarget, name: string): K8sObject {
  const object = store.get(target.resource.plural, target.namespace, name);
  if (!object) throw notFound(target.resource, name);
  return object;
}

export function getObject(store: ObjectStore, target: ResourceTarget, name: string): HandlerResult {
  const object = getExisting(store, target, name);
  return { code: 200, body: target.subresource === "scale" ? toScale(object) : object };
}

/** A write to the `scale` subresource: only `spec.replicas` of the object changes. */
function updateScale(store: ObjectStore, target: ResourceTarget, current: K8sObject, scale: unknown): HandlerResult {
  const replicas = requestedReplicas(scale);
  const name = current.metadata.name ?? "";
  if (replicas === undefined) {
    const value = isObject(scale) ? objectAt(scale, "spec")?.replicas : undefined;
    throw invalid(target.resource, name, [fieldInvalid("spec.replicas", value ?? null, "must be greater than or equal to 0")]);
  }
  const next = structuredClone(current);
  next.spec = { ...objectAt(next, "spec"), replicas };
  storeUpdate(store, { ...target, subresource: undefined }, current, next, current.metadata.resourceVersion);
  return { code: 200, body: toScale(getExisting(store, target, name)) };
}

interface ContinueToken {
  offset: number;
  revision: number;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (isObject(parsed) && typeof parsed.offset === "number" && typeof parsed.revision === "number") {
      return { offset: parsed.offset, revision: parsed.revision };
    }
  } catch {
    // Falls through to the error below.
  }
  throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
}

const sortKey = (o: K8sObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

/** One page of a list, sorted by namespace/name as the API server returns it, with the list metadata. */
export function listPage(
  store: ObjectStore,
  target: ResourceTarget,
  filter: ObjectFilter | undefined,
  limit: number | undefined,
  continueToken: string | undefined,
): { items: K8sObject[]; metadata: JsonObject } {
  const { items, revision } = store.list(target.resource.plural, { namespace: target.namespace, filter });
  items.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const start = continueToken ? decodeContinue(continueToken) : undefined;
  const offset = start?.offset ?? 0;
  const listRevision = start?.revision ?? revision;
  const end = limit && limit > 0 ? offset + limit : items.length;
  const metadata: JsonObject = { resourceVersion: String(listRevision) };
  if (end < items.length) {
    metadata.continue = Buffer.from(JSON.stringify({ offset: end, revision: listRevision })).toString("base64url");
    metadata.remainingItemCount = items.length - end;
  }
  return { items: items.slice(offset, end), metadata };
}

/** A list as the API server encodes it: `<Kind>List`, items without kind/apiVersion. */
export function listBody(resource: ResourceInfo, page: { items: K8sObject[]; metadata: JsonObject }): JsonObject {
  return {
    kind: `${resource.kind}List`,
    apiVersion: apiVersionOf(resource),
    metadata: page.metadata,
    items: page.items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest),
  };
}

/** Checks kind/apiVersion of a body against the URL's resource and fills them when absent. */
function asObjectOf(resource: ResourceInfo, body: unknown): K8sObject {
  if (!isObject(body)) throw badRequest("the request body must be a JSON object");
  const apiVersion = body.apiVersion ?? apiVersionOf(resource);
  const kind = body.kind ?? resource.kind;
  if (apiVersion !== apiVersionOf(resource)) {
    throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(resource)})`);
  }
  if (kind !== resource.kind) {
    throw badRequest(`the kind in the data (${String(kind)}) does not match the expected kind (${resource.kind})`);
  }
  const metadata = isObject(body.metadata) ? body.metadata : {};
  return { ...body, apiVersion: apiVersionOf(resource), kind: resource.kind, metadata };
}

function checkNamespaceOf(object: K8sObject, target: ResourceTarget): void {
  const given = object.metadata.namespace;
  if (!target.resource.namespaced) {
    delete object.metadata.namespace;
    return;
  }
  if (given !== undefined && given !== "" && given !== target.namespace) {
    throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
  }
  object.metadata.namespace = target.namespace;
}

/** Secret data must be base64; the real API server fails to decode the body otherwise. */
function checkSecretData(object: K8sObject): void {
  for (const value of Object.values(objectAt(object, "data") ?? {})) {
    if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 === 1) {
      throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0`);
    }
  }
}

function checkValid(target: ResourceTarget, object: K8sObject, extra: ReturnType<typeof validateObject> = []): void {
  const errors = [...validateObject(target.resource.plural, object), ...extra];
  if (errors.length > 0) throw invalid(target.resource, object.metadata.name ?? "", errors);
}

function ensureNamespaceAcceptsContent(store: ObjectStore, target: ResourceTarget, name: string): void {
  if (!target.resource.namespaced || target.namespace === undefined) return;
  const namespace = store.get("namespaces", undefined, target.namespace);
  if (!namespace) throw notFound(requireNamespaceResource(), target.namespace);
  if (namespace.metadata.deletionTimestamp) {
    const message = `unable to create new content in namespace ${target.namespace} because it is being terminated`;
    throw new ApiError(403, "Forbidden", `${qualifiedResource(target.resource)} "${name}" is forbidden: ${message}`, {
      name,
      group: target.resource.group,
      kind: target.resource.plural,
      causes: [{ reason: "NamespaceTerminating", message, field: "metadata.namespace" }],
    });
  }
}

const SYSTEM_METADATA = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"];

export function createObject(store: ObjectStore, target: ResourceTarget, body: unknown): HandlerResult {
  const object = asObjectOf(target.resource, body);
  checkNamespaceOf(object, target);
  const meta = object.metadata;
  if (meta.resourceVersion) throw new ApiError(500, "InternalError", "resourceVersion should not be set on objects to be created");
  for (const key of SYSTEM_METADATA) delete meta[key];
  const table = target.resource.plural;
  if (!meta.name && meta.generateName) {
    // The generated suffix is 5 characters; the prefix is cut so the name stays within 63.
    meta.name = meta.generateName.slice(0, 58) + randomNameSuffix();
  }
  const name = meta.name ?? "";
  ensureNamespaceAcceptsContent(store, target, name);
  const uid = randomUUID();
  meta.uid = uid;
  if (table === "secrets") checkSecretData(object);
  if (table === "pods") admitServiceAccount(store, object);
  applyDefaults(table, object);
  prepareForCreate(table, object);
  checkValid(target, object, table === "services" ? assignClusterIp(store, object) : []);
  try {
    // Validating admission comes after validation, as in the API server: Pod Security refuses or warns.
    const warnings = table === "pods" ? admitPodSecurity(store, object) : podTemplateWarnings(store, target.namespace ?? "", object);
    return { code: 201, body: store.create(table, object, { uid }), headers: warnings.length ? { Warning: warnings.join(", ") } : undefined };
  } catch (error) {
    throw fromStoreError(error, target.resource, name);
  }
}

function hasStatusSubresource(resource: ResourceInfo): boolean {
  return resource.subresources.some((s) => s.name === "status");
}

/**
 * Builds the object an update stores: the main resource keeps the stored status, the status
 * subresource keeps everything but status; system metadata always comes from the stored object.
 */
function mergeForUpdate(target: ResourceTarget, current: K8sObject, requested: K8sObject): K8sObject {
  let next: K8sObject;
  if (target.subresource === "status") {
    next = { ...structuredClone(current), status: requested.status };
  } else {
    next = structuredClone(requested);
    if (hasStatusSubresource(target.resource)) next.status = current.status;
  }
  for (const key of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"]) {
    if (current.metadata[key] === undefined) delete next.metadata[key];
    else next.metadata[key] = current.metadata[key];
  }
  next.metadata.namespace = current.metadata.namespace;
  return next;
}

function storeUpdate(store: ObjectStore, target: ResourceTarget, current: K8sObject, next: K8sObject, expectedVersion: string | undefined): HandlerResult {
  const name = current.metadata.name ?? "";
  const table = target.resource.plural;
  if (table === "secrets") checkSecretData(next);
  if (table === "services") keepClusterIp(current, next);
  applyDefaults(table, next);
  checkValid(target, next, target.subresource === "status" ? [] : validateUpdate(table, current, next));
  if (GENERATION_TRACKED.has(table) && JSON.stringify(current.spec) !== JSON.stringify(next.spec)) {
    next.metadata.generation = Number(current.metadata.generation ?? 1) + 1;
  }
  let stored: K8sObject;
  try {
    stored = store.replace(table, next, expectedVersion || undefined);
  } catch (error) {
    throw fromStoreError(error, target.resource, name);
  }
  // Clearing the last finalizer of an object being deleted completes its deletion.
  removeIfFinalized(store, table, stored);
  return { code: 200, body: stored };
}

export function updateObject(store: ObjectStore, target: ResourceTarget, name: string, body: unknown): HandlerResult {
  if (target.subresource === "scale") return updateScale(store, target, getExisting(store, target, name), body);
  const requested = asObjectOf(target.resource, body);
  if (requested.metadata.name !== undefined && requested.metadata.name !== name) {
    throw badRequest(`the name of the object (${requested.metadata.name}) does not match the name on the URL (${name})`);
  }
  requested.metadata.name = name;
  checkNamespaceOf(requested, target);
  const current = getExisting(store, target, name);
  return storeUpdate(store, target, current, mergeForUpdate(target, current, requested), requested.metadata.resourceVersion);
}

export function patchObject(store: ObjectStore, target: ResourceTarget, name: string, type: PatchType, patch: unknown): HandlerResult {
  const current = getExisting(store, target, name);
  if (target.subresource === "scale") return updateScale(store, target, current, applyPatch(type, toScale(current), patch));
  const patchedValue = applyPatch(type, current, patch);
  const patched = asObjectOf(target.resource, patchedValue);
  if (patched.metadata.name !== name) throw badRequest(`metadata.name: Invalid value: "${String(patched.metadata.name)}": field is immutable`);
  const requestedVersion = patched.metadata.resourceVersion;
  if (requestedVersion && requestedVersion !== current.metadata.resourceVersion) throw conflict(target.resource, name);
  checkNamespaceOf(patched, target);
  return storeUpdate(store, target, current, mergeForUpdate(target, current, patched), current.metadata.resourceVersion);
}

/** DeleteOptions from the body (DeleteOptions JSON) and the query, the query winning. */
export function parseDeleteOptions(body: unknown, query: URLSearchParams): DeleteRequest & { preconditions: { uid?: string; resourceVersion?: string } } {
  const options = isObject(body) ? body : {};
  let policy: unknown = query.get("propagationPolicy") ?? options.propagationPolicy;
  const orphan = query.get("orphanDependents") ?? options.orphanDependents;
  if (policy === undefined && orphan !== undefined && orphan !== null) {
    policy = orphan === true || orphan === "true" ? "Orphan" : "Background";
  }
  if (policy !== undefined && policy !== null && !PROPAGATION_POLICIES.some((p) => p === policy)) {
    const error = fieldNotSupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan"]);
    throw new ApiError(422, "Invalid", `DeleteOptions.meta.k8s.io "" is invalid: ${error.field}: ${error.message}`, {
      kind: "DeleteOptions",
      group: "meta.k8s.io",
      causes: [error],
    });
  }
  const graceRaw = query.get("gracePeriodSeconds") ?? options.gracePeriodSeconds;
  let gracePeriodSeconds: number | undefined;
  if (graceRaw !== undefined && graceRaw !== null) {
    gracePeriodSeconds = Number(graceRaw);
    if (!Number.isInteger(gracePeriodSeconds)) throw badRequest(`gracePeriodSeconds: Invalid value: "${String(graceRaw)}": must be an integer`);
  }
  const preconditions = objectAt(options, "preconditions");
  return {
    propagationPolicy: PROPAGATION_POLICIES.find((p) => p === policy),
    gracePeriodSeconds,
    preconditions: { uid: stringAt(preconditions, "uid"), resourceVersion: stringAt(preconditions, "resourceVersion") },
  };
}

const PROTECTED_NAMESPACES = ["default", "kube-system", "kube-public"];

const JOB_ORPHAN_WARNING =
  '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"';

export function deleteOne(store: ObjectStore, target: ResourceTarget, name: string, options: ReturnType<typeof parseDeleteOptions>): HandlerResult {
  const current = getExisting(store, target, name);
  const { uid, resourceVersion } = options.preconditions;
  if (uid && uid !== current.metadata.uid) {
    throw conflict(target.resource, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ""}`);
  }
  if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(
      target.resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ""}`,
    );
  }
  if (target.resource.plural === "namespaces" && PROTECTED_NAMESPACES.includes(name)) {
    throw new ApiError(403, "Forbidden", `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
      name,
      group: "",
      kind: "namespaces",
    });
  }
  const policy: PropagationPolicy = options.propagationPolicy ?? defaultPropagationPolicy(target.resource.plural);
  const outcome = deleteObject(store, target.resource.plural, target.namespace, name, { ...options, propagationPolicy: policy });
  if (!outcome) throw notFound(target.resource, name);
  const headers: Record<string, string> =
    target.resource.plural === "jobs" && options.propagationPolicy === undefined ? { Warning: JOB_ORPHAN_WARNING } : {};
  // Pods answer with the deleted object; other kinds with a Success Status once gone.
  const body: K8sObject | StatusObject =
    outcome.removed && target.resource.plural !== "pods"
      ? successStatus(target.resource, name, outcome.object.metadata.uid)
      : outcome.object;
  return { code: 200, body, headers };
}

export function deleteCollection(
  store: ObjectStore,
  target: ResourceTarget,
  filter: ObjectFilter | undefined,
  options: ReturnType<typeof parseDeleteOptions>,
): HandlerResult {
  const { items } = store.list(target.resource.plural, { namespace: target.namespace, filter });
  for (const item of items) {
    deleteObject(store, target.resource.plural, item.metadata.namespace, item.metadata.name ?? "", {
      ...options,
      propagationPolicy: options.propagationPolicy ?? defaultPropagationPolicy(target.resource.plural),
    });
  }
  return { code: 200, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 200 } };
}
