/**
 * The process-wide shared watches (DESIGN §3 step 3, §8): ONE list+watch per (cluster, namespace,
 * kind) for the Jobs and Pods labelled `app.kubernetes.io/managed-by=paperclip`, shared by every
 * run in the process. Runs read Job and Pod state from its cache and subscribe to its events;
 * nobody polls per run. How one watch streams, restarts and catches a silent connection is in
 * `shared-watch-stream.ts`; its cache and diff in `watch-cache.ts`.
 *
 * Lifetime: `acquireSharedWatch` hands out reference-counted leases. The watch starts with the
 * first lease and stops `lingerMs` after the last one is released, so back-to-back runs reuse the
 * cache instead of relisting, and a namespace nobody runs in any more costs nothing.
 * `stopSharedWatches()` ends them all (process shutdown, tests).
 */
import type { ClusterAccess } from "./cluster-access.ts";
import {
  MANAGED_BY_SELECTOR,
  SharedWatch,
  type SharedWatchOptions,
  type WatchStatus,
  type WatchedKind,
  type WatchedObject,
} from "./shared-watch-stream.ts";
import type { WatchListener, WatchTarget } from "./watch-cache.ts";

// What a lease hands out, for the modules that hold one.
export type { SharedWatch, WatchStatus } from "./shared-watch-stream.ts";

const DEFAULT_LINGER_MS = 60_000;

/** A run's handle on a shared watch: its subscriptions end with `release()`. */
export interface SharedWatchLease<K extends WatchedKind> {
  readonly watch: SharedWatch<K>;
  ready(signal?: AbortSignal): Promise<void>;
  status(): WatchStatus;
  get(name: string): WatchedObject<K> | undefined;
  list(predicate?: (object: WatchedObject<K>) => boolean): WatchedObject<K>[];
  subscribe(target: WatchTarget<WatchedObject<K>>, listener: WatchListener<WatchedObject<K>>): () => void;
  onStatus(listener: (status: WatchStatus) => void): () => void;
  /** Ends this lease's subscriptions; the last release stops the watch after the linger time. */
  release(): void;
}

interface RegistryEntry<K extends WatchedKind> {
  watch: SharedWatch<K>;
  leases: number;
  lingerTimer: NodeJS.Timeout | undefined;
  lingerMs: number;
}

/** Per kind, so each map's watches have their exact type. Keyed by client set, namespace and selector. */
const registries: { [K in WatchedKind]: Map<string, RegistryEntry<K>> } = { jobs: new Map(), pods: new Map() };

/**
 * A lease on the process-wide watch of `kind` in `namespace` for this client set, started on
 * first use. `options` apply only when this call creates the watch.
 */
export function acquireSharedWatch<K extends WatchedKind>(
  access: ClusterAccess,
  namespace: string,
  kind: K,
  options: SharedWatchOptions = {},
): SharedWatchLease<K> {
  const registry: Map<string, RegistryEntry<K>> = registries[kind];
  const key = JSON.stringify([access.key, namespace, options.labelSelector ?? MANAGED_BY_SELECTOR]);
  let entry = registry.get(key);
  if (!entry || entry.watch.stopped) {
    const created = new SharedWatch(access, namespace, kind, options);
    entry = { watch: created, leases: 0, lingerTimer: undefined, lingerMs: options.lingerMs ?? DEFAULT_LINGER_MS };
    registry.set(key, entry);
    created.start();
  }
  const held = entry;
  const { watch } = held;
  clearTimeout(held.lingerTimer);
  held.lingerTimer = undefined;
  held.leases++;
  const endings = new Set<() => void>();
  let released = false;
  const track = (unsubscribe: () => void) => {
    if (released) {
      unsubscribe();
      throw new Error(`this lease on the watch of ${kind} in namespace "${namespace}" was released`);
    }
    endings.add(unsubscribe);
    return () => {
      endings.delete(unsubscribe);
      unsubscribe();
    };
  };
  return {
    watch,
    ready: (signal) => watch.ready(signal),
    status: () => watch.status(),
    get: (name) => watch.get(name),
    list: (predicate) => watch.list(predicate),
    subscribe: (target, listener) => track(watch.subscribe(target, listener)),
    onStatus: (listener) => track(watch.onStatus(listener)),
    release: () => {
      if (released) return;
      released = true;
      for (const unsubscribe of endings) unsubscribe();
      endings.clear();
      held.leases--;
      if (held.leases > 0) return;
      held.lingerTimer = setTimeout(() => {
        if (held.leases > 0) return;
        if (registry.get(key) === held) registry.delete(key);
        void watch.stop();
      }, held.lingerMs);
      // Lingering must not keep a process alive that has nothing else to do.
      held.lingerTimer.unref();
    },
  };
}

/** Stops every shared watch of the process (shutdown, tests). */
export async function stopSharedWatches(): Promise<void> {
  const entries = [...registries.jobs.values(), ...registries.pods.values()];
  registries.jobs.clear();
  registries.pods.clear();
  for (const entry of entries) clearTimeout(entry.lingerTimer);
  await Promise.all(entries.map((entry) => entry.watch.stop()));
}
