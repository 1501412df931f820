import { randomUUID } from "node:crypto";
import { jsonEqual } from "./api/json.ts";

/** Any Kubernetes object as stored: JSON data with typed metadata. */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/**
 * A stored object handed out without a copy (`peek`, `scan`, `owned`, store events): the store never changes an
 * object in place once written, so reading it is safe and free; changing it would change the store, so don't
 * (write through `mutate` / `replace`).
 */
export type SharedObject = Readonly<K8sObject>;

export interface StoreEvent {
  type: WatchEventType;
  resource: string;
  /** Shared by every listener and the watch history: read it, never change it. */
  object: SharedObject;
  /** The store revision this event created (equals object.metadata.resourceVersion). */
  revision: number;
}

export type StoreListener = (event: StoreEvent) => void;

export interface ListOptions {
  namespace?: string;
  filter?: (object: K8sObject) => boolean;
}

export interface WatchOptions extends ListOptions {
  /**
   * Replay every event after this revision, then go live. Undefined: synthetic ADDED for each
   * current object, then live (what a watch without resourceVersion means in Kubernetes).
   */
  sinceRevision?: number;
}

/** Thrown by the store; the API layer turns it into a `Status` response with the same code. */
export class StoreError extends Error {
  readonly code: 404 | 409 | 410;
  readonly reason: "NotFound" | "AlreadyExists" | "Conflict" | "Expired" | "Gone";

  constructor(code: StoreError["code"], reason: StoreError["reason"], message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

const GENERATED_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** The 5-character random suffix Kubernetes appends for `generateName` and Job pods. */
export function randomNameSuffix(length = 5): string {
  let suffix = "";
  for (let i = 0; i < length; i++) {
    suffix += GENERATED_SUFFIX_ALPHABET[Math.floor(Math.random() * GENERATED_SUFFIX_ALPHABET.length)];
  }
  return suffix;
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

/**
 * The cluster's etcd: every object of every resource, one global revision counter (as etcd's),
 * and a bounded event history so watches can resume from a revision or learn it is too old (410).
 * `get`, `list` and the results of writes are copies, so no caller can mutate stored state by accident;
 * `peek`, `scan`, `owned` and store events share the stored objects (never changed in place) for the
 * controllers' hot paths. Cluster-scoped resources use namespace `undefined`.
 */
export class ObjectStore {
  private revision = 1;
  private readonly objects = new Map<string, Map<string, K8sObject>>();
  /** resource → owner uid → keys of the objects whose ownerReferences name it (`owned`). */
  private readonly ownerIndex = new Map<string, Map<string, Set<string>>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<{ resource: string; listener: StoreListener }>();

  private readonly historyLimit: number;
  private compactedThrough = 0;

  constructor(historyLimit = 10_000) {
    this.historyLimit = historyLimit;
  }

  currentRevision(): number {
    return this.revision;
  }

  /** Oldest revision a watch may still resume from; older ones get 410 Gone. */
  oldestResumableRevision(): number {
    return this.history.length === this.historyLimit ? (this.history[0]?.revision ?? this.revision) : 1;
  }

  /** Makes every revision up to now too old to resume from (the `410 Gone` fault). */
  compact(): void {
    this.history.length = 0;
    this.compactedThrough = this.revision;
  }

  get(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
    const found = this.table(resource).get(keyOf(namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  list(resource: string, options: ListOptions = {}): { items: K8sObject[]; revision: number } {
    return { items: this.select(resource, options).map((o) => structuredClone(o)), revision: this.revision };
  }

  /** `get` without the copy (see `SharedObject`). */
  peek(resource: string, namespace: string | undefined, name: string): SharedObject | undefined {
    return this.table(resource).get(keyOf(namespace, name));
  }

  /** `list` without the copies (see `SharedObject`). */
  scan(resource: string, options: ListOptions = {}): SharedObject[] {
    return this.select(resource, options);
  }

  /** The objects of `resource` in `namespace` with an ownerReference to `ownerUid`, found by index, not by a scan (shared). */
  owned(resource: string, namespace: string | undefined, ownerUid: string): SharedObject[] {
    const table = this.table(resource);
    const found: SharedObject[] = [];
    for (const key of this.ownerIndex.get(resource)?.get(ownerUid) ?? []) {
      const object = table.get(key);
      if (object && object.metadata.namespace === namespace) found.push(object);
    }
    return found;
  }

  /**
   * Stores a new object: fills name from generateName, uid, creationTimestamp, resourceVersion.
   * `options.uid` presets the uid, for callers that derive fields from it before storing (the
   * API server's Job selector).
   */
  create(resource: string, input: K8sObject, options: { uid?: string } = {}): K8sObject {
    const object = structuredClone(input);
    const meta = object.metadata;
    const table = this.table(resource);
    if (!meta.name && meta.generateName) {
      do meta.name = meta.generateName + randomNameSuffix();
      while (table.has(keyOf(meta.namespace, meta.name)));
    }
    if (!meta.name) throw new StoreError(409, "Conflict", "name or generateName is required");
    if (table.has(keyOf(meta.namespace, meta.name))) {
      throw new StoreError(409, "AlreadyExists", `${resource} "${meta.name}" already exists`);
    }
    meta.uid = options.uid ?? randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    delete meta.deletionTimestamp;
    return this.write(resource, object, "ADDED");
  }

  /**
   * Replaces an object. With `expectedResourceVersion`, a stale write fails with 409 Conflict
   * (optimistic concurrency as the API server does it). uid and creationTimestamp are kept.
   */
  replace(resource: string, input: K8sObject, expectedResourceVersion?: string): K8sObject {
    const object = structuredClone(input);
    const current = this.table(resource).get(keyOf(object.metadata.namespace, object.metadata.name ?? ""));
    if (!current) throw new StoreError(404, "NotFound", `${resource} "${object.metadata.name}" not found`);
    if (expectedResourceVersion && expectedResourceVersion !== current.metadata.resourceVersion) {
      throw new StoreError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    object.metadata.uid = current.metadata.uid;
    object.metadata.creationTimestamp = current.metadata.creationTimestamp;
    return this.write(resource, object, "MODIFIED");
  }

  /**
   * Read-modify-write for controllers: `change` edits a copy in place; returns the stored result,
   * or undefined when the object does not exist. Writes only when something changed.
   */
  mutate(
    resource: string,
    namespace: string | undefined,
    name: string,
    change: (object: K8sObject) => void,
  ): K8sObject | undefined {
    const current = this.table(resource).get(keyOf(namespace, name));
    if (!current) return undefined;
    const next = structuredClone(current);
    change(next);
    if (jsonEqual(next, current)) return next;
    return this.write(resource, next, "MODIFIED");
  }

  /** Removes an object now (graceful deletion and garbage collection are the callers' policy). */
  remove(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
    const table = this.table(resource);
    const key = keyOf(namespace, name);
    const current = table.get(key);
    if (!current) return undefined;
    table.delete(key);
    this.unindexOwners(resource, key, current);
    // The stored object is never changed in place: the event may share all of it but its metadata.
    const removed: K8sObject = { ...current, metadata: { ...current.metadata, resourceVersion: String(++this.revision) } };
    this.emit({ type: "DELETED", resource, object: removed, revision: this.revision });
    return structuredClone(removed);
  }

  /** Live events for a resource, no replay: for controllers inside the sim. */
  subscribe(resource: string, listener: StoreListener): () => void {
    const entry = { resource, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  /**
   * A watch as the API serves it: replays history after `sinceRevision` (or synthetic ADDED
   * events for the current state), then delivers live events. Throws 410 when the revision is
   * older than the retained history.
   */
  watch(resource: string, options: WatchOptions, listener: StoreListener): () => void {
    const matches = (object: K8sObject) =>
      (options.namespace === undefined || object.metadata.namespace === options.namespace) &&
      (!options.filter || options.filter(object));
    const since = options.sinceRevision;
    const backlog: StoreEvent[] = [];
    if (since === undefined) {
      for (const object of this.select(resource, options)) {
        backlog.push({ type: "ADDED", resource, object, revision: Number(object.metadata.resourceVersion) });
      }
    } else {
      if (since < this.compactedThrough || since < this.oldestResumableRevision() - 1) {
        throw new StoreError(410, "Expired", `too old resource version: ${since} (${this.revision})`);
      }
      for (const event of this.history) {
        if (event.revision > since && event.resource === resource && matches(event.object)) backlog.push(event);
      }
    }
    for (const event of backlog) listener(event);
    return this.subscribe(resource, (event) => {
      if (matches(event.object)) listener(event);
    });
  }

  private select(resource: string, options: ListOptions): K8sObject[] {
    const result: K8sObject[] = [];
    for (const object of this.table(resource).values()) {
      if (options.namespace !== undefined && object.metadata.namespace !== options.namespace) continue;
      if (options.filter && !options.filter(object)) continue;
      result.push(object);
    }
    return result;
  }

  /** Stores `object` (a copy no caller holds) as it is from now on: it is shared, never changed again. */
  private write(resource: string, object: K8sObject, type: WatchEventType): K8sObject {
    object.metadata.resourceVersion = String(++this.revision);
    const key = keyOf(object.metadata.namespace, object.metadata.name ?? "");
    const table = this.table(resource);
    const previous = table.get(key);
    if (previous) this.unindexOwners(resource, key, previous);
    table.set(key, object);
    this.indexOwners(resource, key, object);
    this.emit({ type, resource, object, revision: this.revision });
    return structuredClone(object);
  }

  private indexOwners(resource: string, key: string, object: K8sObject): void {
    const owners = object.metadata.ownerReferences;
    if (!owners || owners.length === 0) return;
    let byOwner = this.ownerIndex.get(resource);
    if (!byOwner) {
      byOwner = new Map();
      this.ownerIndex.set(resource, byOwner);
    }
    for (const { uid } of owners) {
      let keys = byOwner.get(uid);
      if (!keys) {
        keys = new Set();
        byOwner.set(uid, keys);
      }
      keys.add(key);
    }
  }

  private unindexOwners(resource: string, key: string, object: K8sObject): void {
    const byOwner = this.ownerIndex.get(resource);
    for (const { uid } of object.metadata.ownerReferences ?? []) {
      const keys = byOwner?.get(uid);
      keys?.delete(key);
      if (keys?.size === 0) byOwner?.delete(uid);
    }
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const { resource, listener } of [...this.listeners]) {
      if (resource === event.resource) listener(event);
    }
  }

  private table(resource: string): Map<string, K8sObject> {
    let table = this.objects.get(resource);
    if (!table) {
      table = new Map();
      this.objects.set(resource, table);
    }
    return table;
  }
}
