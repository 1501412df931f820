/**
 * The cache behind a shared watch (DESIGN §3 step 3): the watched objects by name at one
 * resourceVersion, and the subscribers told about each change.
 *
 * - A LIST replaces the cache by diff: subscribers get synthetic ADDED / MODIFIED / DELETED for
 *   exactly what changed, so nobody misses what happened while a watch was disconnected.
 * - The cache never goes backwards: anything older than the version it reflects (a stale event, a
 *   slow poll) is dropped when both versions parse as numbers; otherwise arrival order is trusted.
 * - Subscribers follow one object by name or every object a predicate accepts; delivery is
 *   synchronous and in order, and one subscriber throwing does not stop delivery to the others.
 */

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent<T> {
  /** Relative to what this cache held before: an ADDED from the server for a known object is a MODIFIED here. */
  type: WatchEventType;
  /** The object after the change (for DELETED: its last state). Shared with the cache: read only. */
  object: T;
  /** True when it comes from a relist or poll diff rather than the watch stream. */
  synthetic: boolean;
}

export type WatchListener<T> = (event: WatchEvent<T>) => void;

/**
 * What a subscriber follows: one object by name, the objects carrying one label value (looked up, so a run's
 * subscription costs nothing per event of another run's objects), or every object a predicate accepts.
 */
export type WatchTarget<T> = string | { label: string; value: string } | ((object: T) => boolean);

/** What the cache needs of an object: Jobs and Pods both fit. */
export interface CachedObject {
  metadata?: { name?: string; resourceVersion?: string; labels?: { [key: string]: string } };
}

/** -1, 0, 1 when both resourceVersions parse as integers; undefined when they cannot be compared. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when `candidate` is known to be older than `current` (or the same version, when `orEqual`). */
function isStale(candidate: string | undefined, current: string | undefined, orEqual: boolean): boolean {
  const order = compareResourceVersions(candidate, current);
  return order !== undefined && (order < 0 || (orEqual && order === 0));
}

/** Adds `listener` under `key`; returns its removal, which drops the key with its last listener. */
function addListener<L>(map: Map<string, Set<L>>, key: string, listener: L): () => void {
  let listeners = map.get(key);
  if (!listeners) {
    listeners = new Set();
    map.set(key, listeners);
  }
  const held = listeners;
  held.add(listener);
  return () => {
    held.delete(listener);
    if (held.size === 0 && map.get(key) === held) map.delete(key);
  };
}

interface Subscription<T> {
  matches: (object: T) => boolean;
  listener: WatchListener<T>;
}

export class WatchCache<T extends CachedObject> {
  private readonly objects = new Map<string, T>();
  private currentVersion: string | undefined;
  private readonly byName = new Map<string, Set<WatchListener<T>>>();
  /** Listeners by label, then by that label's value. */
  private readonly byLabel = new Map<string, Map<string, Set<WatchListener<T>>>>();
  private readonly filtered = new Set<Subscription<T>>();
  private readonly onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.onListenerError = onListenerError;
  }

  /** The resourceVersion the cache reflects; undefined until the first list. */
  get version(): string | undefined {
    return this.currentVersion;
  }

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  list(predicate?: (object: T) => boolean): T[] {
    const all = [...this.objects.values()];
    return predicate ? all.filter(predicate) : all;
  }

  /** True while anyone follows an object of this cache. */
  hasSubscribers(): boolean {
    return this.byName.size > 0 || this.byLabel.size > 0 || this.filtered.size > 0;
  }

  /** See `SharedWatch.subscribe`. */
  subscribe(target: WatchTarget<T>, listener: WatchListener<T>): () => void {
    if (typeof target === "string") return addListener(this.byName, target, listener);
    if (typeof target === "object") {
      let byValue = this.byLabel.get(target.label);
      if (!byValue) {
        byValue = new Map();
        this.byLabel.set(target.label, byValue);
      }
      const values = byValue;
      const remove = addListener(values, target.value, listener);
      return () => {
        remove();
        if (values.size === 0 && this.byLabel.get(target.label) === values) this.byLabel.delete(target.label);
      };
    }
    const subscription = { matches: target, listener };
    this.filtered.add(subscription);
    return () => this.filtered.delete(subscription);
  }

  /** Replaces the cache with a LIST's items, delivering the difference; returns how many objects changed. */
  applyList(items: T[], listVersion: string): number {
    if (isStale(listVersion, this.currentVersion, false)) return 0;
    const seen = new Set<string>();
    const changes: WatchEvent<T>[] = [];
    for (const object of items) {
      const name = object.metadata?.name;
      if (name === undefined) continue;
      seen.add(name);
      const cached = this.objects.get(name);
      if (cached && cached.metadata?.resourceVersion === object.metadata?.resourceVersion) continue;
      this.objects.set(name, object);
      changes.push({ type: cached ? "MODIFIED" : "ADDED", object, synthetic: true });
    }
    for (const [name, cached] of this.objects) {
      if (seen.has(name)) continue;
      this.objects.delete(name);
      changes.push({ type: "DELETED", object: cached, synthetic: true });
    }
    this.currentVersion = listVersion;
    for (const change of changes) this.deliver(change);
    return changes.length;
  }

  /** Applies one event from the watch stream (dropped when older than the cache). */
  applyEvent(type: WatchEventType, object: T): void {
    const name = object.metadata?.name;
    if (name === undefined) return;
    const eventVersion = object.metadata?.resourceVersion;
    if (isStale(eventVersion, this.currentVersion, true)) return;
    if (eventVersion) this.currentVersion = eventVersion;
    const cached = this.objects.get(name);
    if (type === "DELETED") {
      if (!cached) return;
      this.objects.delete(name);
      this.deliver({ type, object, synthetic: false });
      return;
    }
    this.objects.set(name, object);
    this.deliver({ type: cached ? "MODIFIED" : "ADDED", object, synthetic: false });
  }

  /** A bookmark: nothing changed up to `version`. */
  advanceTo(version: string): void {
    if (!isStale(version, this.currentVersion, false)) this.currentVersion = version;
  }

  /** Runs a subscriber's code; what it throws goes to `onListenerError`. */
  safely<R>(call: () => R): R | undefined {
    try {
      return call();
    } catch (error) {
      this.onListenerError(error);
      return undefined;
    }
  }

  private deliver(event: WatchEvent<T>): void {
    const listeners = [...(this.byName.get(event.object.metadata?.name ?? "") ?? [])];
    for (const [label, byValue] of this.byLabel) {
      const value = event.object.metadata?.labels?.[label];
      if (value !== undefined) listeners.push(...(byValue.get(value) ?? []));
    }
    for (const subscription of this.filtered) {
      if (this.safely(() => subscription.matches(event.object))) listeners.push(subscription.listener);
    }
    for (const listener of listeners) this.safely(() => listener(event));
  }
}
