import { resourceForKind, STORED_RESOURCES } from "../api/resources.ts";
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, deleteObject, removeIfFinalized } from "../deletion.ts";
import type { K8sObject, ObjectStore, OwnerReference, SharedObject, StoreEvent } from "../store.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop } from "./reconcile-loop.ts";

const OWNER_KEY = "owner:";
const OBJECT_KEY = "object:";

interface ObjectRef {
  resource: string;
  namespace: string | undefined;
  name: string;
}

const refKey = (ref: ObjectRef) => `${ref.resource}|${ref.namespace ?? ""}|${ref.name}`;

function parseRefKey(key: string): ObjectRef {
  const [resource = "", namespace = "", ...name] = key.split("|");
  return { resource, namespace: namespace === "" ? undefined : namespace, name: name.join("|") };
}

/** Removes the matching owner references; an emptied list goes away, as the API server omits it. */
function dropOwnerReferences(object: K8sObject, drop: (owner: OwnerReference) => boolean): void {
  const kept = (object.metadata.ownerReferences ?? []).filter((owner) => !drop(owner));
  if (kept.length > 0) object.metadata.ownerReferences = kept;
  else delete object.metadata.ownerReferences;
}

/**
 * The garbage collector: deletes dependents whose owners (by `ownerReferences` uid) are all gone
 * (Background propagation, and dangling references), removes dependents before their owner for
 * `foregroundDeletion`, and strips the owner's references from dependents for `orphan`. Keeps an
 * index owner uid → dependents, built from store events, so no work scans the whole store.
 */
export class GarbageCollector {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;
  private readonly dependentsByOwner = new Map<string, Set<string>>();
  private readonly ownersByDependent = new Map<string, Set<string>>();

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: "garbage-collector", reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    for (const resource of STORED_RESOURCES) {
      this.loop.listen(this.store, resource.plural, (event) => this.onEvent(event));
      for (const object of this.store.list(resource.plural).items) {
        this.onEvent({ type: "ADDED", resource: resource.plural, object, revision: 0 });
      }
    }
  }

  async stop(): Promise<void> {
    this.loop.stop();
    this.dependentsByOwner.clear();
    this.ownersByDependent.clear();
  }

  private onEvent(event: StoreEvent): void {
    const { object } = event;
    const ref: ObjectRef = { resource: event.resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "" };
    const key = refKey(ref);
    const owners = event.type === "DELETED" ? [] : (object.metadata.ownerReferences ?? []).map((o) => o.uid);
    this.reindex(key, owners);
    if (event.type === "DELETED") {
      if (object.metadata.uid) this.loop.enqueue(OWNER_KEY + object.metadata.uid);
      // An owner being deleted in the foreground waits for this dependent.
      for (const owner of object.metadata.ownerReferences ?? []) {
        const ownerRef = this.ownerRef(owner, object.metadata.namespace);
        if (ownerRef) this.loop.enqueue(OBJECT_KEY + refKey(ownerRef));
      }
      return;
    }
    const finalizers = object.metadata.finalizers ?? [];
    const collecting = object.metadata.deletionTimestamp && (finalizers.includes(ORPHAN_FINALIZER) || finalizers.includes(FOREGROUND_FINALIZER));
    if (owners.length > 0 || collecting) this.loop.enqueue(OBJECT_KEY + key);
  }

  private reindex(dependent: string, owners: string[]): void {
    for (const owner of this.ownersByDependent.get(dependent) ?? []) {
      const dependents = this.dependentsByOwner.get(owner);
      dependents?.delete(dependent);
      if (dependents?.size === 0) this.dependentsByOwner.delete(owner);
    }
    if (owners.length === 0) {
      this.ownersByDependent.delete(dependent);
      return;
    }
    this.ownersByDependent.set(dependent, new Set(owners));
    for (const owner of owners) {
      let dependents = this.dependentsByOwner.get(owner);
      if (!dependents) {
        dependents = new Set();
        this.dependentsByOwner.set(owner, dependents);
      }
      dependents.add(dependent);
    }
  }

  /** Where an owner reference points; undefined for kinds the sim does not serve. */
  private ownerRef(owner: OwnerReference, dependentNamespace: string | undefined): ObjectRef | undefined {
    const resource = resourceForKind(owner.apiVersion, owner.kind);
    if (!resource) return undefined;
    return { resource: resource.plural, namespace: resource.namespaced ? dependentNamespace : undefined, name: owner.name };
  }

  /** True unless the owner is verifiably absent (a kind the sim does not know counts as present). */
  private ownerExists(owner: OwnerReference, dependentNamespace: string | undefined): boolean {
    const ref = this.ownerRef(owner, dependentNamespace);
    if (!ref) return true;
    return this.store.peek(ref.resource, ref.namespace, ref.name)?.metadata.uid === owner.uid;
  }

  private dependentsOf(uid: string): { ref: ObjectRef; object: SharedObject }[] {
    const result: { ref: ObjectRef; object: SharedObject }[] = [];
    for (const key of this.dependentsByOwner.get(uid) ?? []) {
      const ref = parseRefKey(key);
      const object = this.store.peek(ref.resource, ref.namespace, ref.name);
      if (object?.metadata.ownerReferences?.some((o) => o.uid === uid)) result.push({ ref, object });
    }
    return result;
  }

  private sync(key: string): void {
    if (key.startsWith(OWNER_KEY)) {
      for (const { ref, object } of this.dependentsOf(key.slice(OWNER_KEY.length))) this.collectIfOrphaned(ref, object);
      return;
    }
    const ref = parseRefKey(key.slice(OBJECT_KEY.length));
    const object = this.store.peek(ref.resource, ref.namespace, ref.name);
    if (!object) return;
    if (object.metadata.deletionTimestamp) this.finalize(ref, object);
    const current = this.store.peek(ref.resource, ref.namespace, ref.name);
    if (current) this.collectIfOrphaned(ref, current);
  }

  /** Deletes a dependent whose owners are all gone; drops references to the gone ones otherwise. */
  private collectIfOrphaned(ref: ObjectRef, object: SharedObject): void {
    const owners = object.metadata.ownerReferences ?? [];
    if (owners.length === 0) return;
    const missing = owners.filter((owner) => !this.ownerExists(owner, object.metadata.namespace));
    if (missing.length === 0) return;
    if (missing.length === owners.length) {
      if (!object.metadata.deletionTimestamp) deleteObject(this.store, ref.resource, ref.namespace, ref.name, { propagationPolicy: "Background" });
      return;
    }
    const gone = new Set(missing.map((owner) => owner.uid));
    this.store.mutate(ref.resource, ref.namespace, ref.name, (dependent) => {
      dropOwnerReferences(dependent, (owner) => gone.has(owner.uid));
    });
  }

  /** Works off the `orphan` and `foregroundDeletion` finalizers of an object being deleted. */
  private finalize(ref: ObjectRef, object: SharedObject): void {
    const uid = object.metadata.uid ?? "";
    const finalizers = object.metadata.finalizers ?? [];
    const done: string[] = [];
    if (finalizers.includes(ORPHAN_FINALIZER)) {
      for (const dependent of this.dependentsOf(uid)) {
        this.store.mutate(dependent.ref.resource, dependent.ref.namespace, dependent.ref.name, (d) => {
          dropOwnerReferences(d, (owner) => owner.uid === uid);
        });
      }
      done.push(ORPHAN_FINALIZER);
    }
    if (finalizers.includes(FOREGROUND_FINALIZER)) {
      const dependents = this.dependentsOf(uid);
      for (const dependent of dependents) {
        if (!dependent.object.metadata.deletionTimestamp) {
          deleteObject(this.store, dependent.ref.resource, dependent.ref.namespace, dependent.ref.name, { propagationPolicy: "Foreground" });
        }
      }
      // Dependents still terminating hold the owner; their DELETED events bring it back here.
      if (dependents.length === 0 || this.dependentsOf(uid).length === 0) done.push(FOREGROUND_FINALIZER);
    }
    if (done.length === 0) return;
    const updated = this.store.mutate(ref.resource, ref.namespace, ref.name, (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => !done.includes(f));
      if (o.metadata.finalizers.length === 0) delete o.metadata.finalizers;
    });
    if (updated) removeIfFinalized(this.store, ref.resource, updated);
  }
}
