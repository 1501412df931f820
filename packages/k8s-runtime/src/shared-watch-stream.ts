/**
 * One shared watch's stream and restarts (DESIGN §3 step 3, §8): a list+watch of the Jobs or Pods
 * labelled `app.kubernetes.io/managed-by=paperclip` in one namespace, kept in a `WatchCache`
 * (`watch-cache.ts`: diff, ordering, subscribers). Leases on it are handed out by `shared-watch.ts`.
 *
 * Built on one WATCH request at a time (`watch-stream.ts`) rather than client-node's `makeInformer`:
 * the informer gives up after any error other than 410 or a timeout (it only reports it), does not ask for bookmarks or set
 * `timeoutSeconds`, has no fallback while the watch is down, and mixes typed list items with raw
 * watch objects. Here:
 * - initial LIST, then WATCH from its resourceVersion with `allowWatchBookmarks` and a jittered
 *   `timeoutSeconds`; a clean end re-watches at once from the last resourceVersion seen
 *   (bookmarks advance it);
 * - 410 Gone (ERROR event or HTTP status) → relist; the cache's diff tells subscribers what
 *   happened while disconnected;
 * - any other failure → restart with capped jittered backoff, and the status goes `down`;
 * - a local idle timer re-opens a watch connection that has delivered nothing (no event, no bookmark) for
 *   `idleTimeoutMs` (90 s). The stream itself also ends after 90 s without a byte (`watch-stream.ts`,
 *   `TimeoutError`), which we treat the same way: a quiet, healthy watch is simply re-opened. Both sit above
 *   kube-apiserver's cadence (a BOOKMARK about once a minute, whatever else it sends), so against a real API server
 *   a quiet watch stays open until its `timeoutSeconds`;
 * - a watch can stay connected and deliver nothing while things change (a proxy holding its bytes, a
 *   stuck API server). While anyone is subscribed, a silent watch is checked with one LIST diffed against the
 *   cache: what it missed is delivered at once, and the watch is replaced (status `down` with the reason, so runs
 *   say so in their logs); the status stays `down`, polling, until a new watch delivers something (a proxy may
 *   hold every stream). When the list shows nothing missed, the watch was only quiet and stays. How long a watch
 *   may be silent before that check is learned per watch from its bookmarks (`silent-watch-schedule.ts`): 1.5 ×
 *   the longest gap a bookmark ended, at least `silentAfterMs` (10 s) and at most `idleTimeoutMs`; silence counts
 *   across re-opened connections. So against kube-apiserver a quiet namespace costs no LIST once the first bookmark
 *   came (about a minute after the watch started; two checks before it, at 10 and 30 s), and a stuck watch is found
 *   within 90 s. A server that sends no bookmarks gets the first check after 10 s of silence, the next ones backing
 *   off (doubling up to `idleTimeoutMs`) while they find nothing missed; anything delivered brings it back to 10 s.
 *   Per watch, never per run;
 * - while `down`: one bounded LIST every `pollIntervalMs`, shared by all subscribers, and status
 *   listeners are told (so a run can say so in its log); polling stops when the watch is up again.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
// client-node's own model serializer. It is not re-exported from the package root, but the typed LIST results
// must become JSON again to take the watch events' path into the cache (`json-models.ts`), or it would mix shapes.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { type ClusterAccess, abortableCall } from "./cluster-access.ts";
import {
  type BackoffOptions,
  abortableSleep,
  apiStatusOf,
  backoffDelayMs,
  classifyError,
  describeApiError,
  httpStatusOf,
  withRetry,
} from "./retry-policy.ts";
import { WatchCache, type WatchListener, type WatchTarget } from "./watch-cache.ts";
import { SilentWatchSchedule } from "./silent-watch-schedule.ts";
import { WATCH_INACTIVITY_TIMEOUT_MS, openWatchStream } from "./watch-stream.ts";
import { type JsonModels, modelFromJson } from "./json-models.ts";

interface WatchedObjects {
  jobs: V1Job;
  pods: V1Pod;
}
export type WatchedKind = keyof WatchedObjects;
export type WatchedObject<K extends WatchedKind> = WatchedObjects[K];

export const MANAGED_BY_SELECTOR = "app.kubernetes.io/managed-by=paperclip";

export type WatchState = "starting" | "up" | "down" | "stopped";

export interface WatchStatus {
  state: WatchState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Why the watch is down (or last went down). */
  lastError?: string;
  /** True while the cache is kept fresh by periodic LISTs instead of the watch. */
  polling: boolean;
}

export interface SharedWatchOptions {
  labelSelector?: string;
  /** Server-side watch timeout; default a random 240–300 s per watch so restarts spread out. */
  timeoutSeconds?: number;
  /**
   * Re-open a watch connection that delivered nothing for this long; also the longest a followed watch stays
   * unchecked while silent (see module comment). Default 90 s: 1.5 × kube-apiserver's one-minute bookmarks.
   */
  idleTimeoutMs?: number;
  /**
   * The shortest silence after which a watch that runs follow is checked with one LIST: the wait until the watch has
   * seen a bookmark. Then it is 1.5 × the longest gap between its bookmarks, up to `idleTimeoutMs` (see module
   * comment and `silent-watch-schedule.ts`). Default 10 s.
   */
  silentAfterMs?: number;
  /** Restart backoff after failures. Default 250 ms doubling to 10 s. */
  backoff?: BackoffOptions;
  /** LIST this often while the watch is down. Default 3 s. */
  pollIntervalMs?: number;
  /** A watch that stayed open this long (or delivered anything) ended healthily. Default 1 s. */
  healthyAfterMs?: number;
  /** Keep the watch this long after the last lease is released (`shared-watch.ts`). Default 60 s. */
  lingerMs?: number;
  random?: () => number;
  /** A subscriber threw; default: `console.error`. Delivery to the others continues. */
  onListenerError?: (error: unknown) => void;
}

const DEFAULTS = {
  idleTimeoutMs: WATCH_INACTIVITY_TIMEOUT_MS,
  silentAfterMs: 10_000,
  backoff: { baseDelayMs: 250, maxDelayMs: 10_000 },
  pollIntervalMs: 3_000,
  healthyAfterMs: 1_000,
};

interface KindSpec<T> {
  /** Collection path, for the watch. */
  path(namespace: string): string;
  /** client-node model name, for turning LIST results back into JSON. */
  model: keyof JsonModels;
  /**
   * The model object the cache keeps for an object's JSON (which it may change): its essentials only (see
   * `podEssentials`), since it is held per live run in the server's heap.
   */
  cached(object: Record<string, unknown>): T;
  apiVersion: string;
  kind: string;
  list(access: ClusterAccess, namespace: string, labelSelector: string, signal: AbortSignal): Promise<{
    items: T[];
    resourceVersion: string | undefined;
  }>;
}

const KINDS: { [K in WatchedKind]: KindSpec<WatchedObjects[K]> } = {
  jobs: {
    path: (namespace) => `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`,
    model: "V1Job",
    cached: (object) => modelFromJson(jobEssentials(object), "V1Job"),
    apiVersion: "batch/v1",
    kind: "Job",
    list: async (access, namespace, labelSelector, signal) => {
      const list = await access.batch.listNamespacedJob({ namespace, labelSelector }, abortableCall(signal));
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
    },
  },
  pods: {
    path: (namespace) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
    model: "V1Pod",
    cached: (object) => modelFromJson(podEssentials(object), "V1Pod"),
    apiVersion: "v1",
    kind: "Pod",
    list: async (access, namespace, labelSelector, signal) => {
      const list = await access.core.listNamespacedPod({ namespace, labelSelector }, abortableCall(signal));
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
    },
  },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** The object without `metadata.managedFields` (server-side apply bookkeeping, often its largest part), which nobody reads. */
function withoutManagedFields(object: Record<string, unknown>): Record<string, unknown> {
  if (!isRecord(object.metadata) || !("managedFields" in object.metadata)) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/**
 * What the runtime reads of a Job: its metadata (labels and annotations for the guard, reattach and the run
 * directory) and status. Its spec, the pod template (most of a Job's bytes), is the runtime's own manifest.
 */
function jobEssentials(object: Record<string, unknown>): Record<string, unknown> {
  const job = withoutManagedFields(object);
  return { apiVersion: job.apiVersion, kind: job.kind, metadata: job.metadata, status: job.status };
}

/**
 * What the runtime reads of an agent pod: its metadata, node, containers' names and status. The rest of its spec
 * (the containers' command, env and mounts, the volumes: most of a pod's bytes) is the Job's template again.
 */
function podEssentials(object: Record<string, unknown>): Record<string, unknown> {
  const pod = withoutManagedFields(object);
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const containers = Array.isArray(spec.containers) ? spec.containers.map((container: unknown) => ({ name: isRecord(container) ? container.name : undefined })) : [];
  return { apiVersion: pod.apiVersion, kind: pod.kind, metadata: pod.metadata, spec: { nodeName: spec.nodeName, containers }, status: pod.status };
}

/**
 * Calls `onDue` once the time `dueAt()` says has passed. One timer, re-armed lazily: activity that moves the deadline
 * later is seen when it wakes; a deadline moved earlier needs `arm()` again.
 */
class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private readonly dueAt: () => number;
  private readonly onDue: () => void;

  constructor(dueAt: () => number, onDue: () => void) {
    this.dueAt = dueAt;
    this.onDue = onDue;
  }

  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (Date.now() < this.dueAt()) return this.arm();
      this.timer = undefined;
      this.onDue();
    }, Math.max(0, this.dueAt() - Date.now()));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

type WatchEnd =
  | { kind: "closed" | "idle" | "gone"; healthy: boolean }
  | { kind: "silent"; healthy: false; reason: string }
  | { kind: "error"; healthy: boolean; error: unknown }
  | { kind: "stopped" };

/** One list+watch of one kind in one namespace; see the module comment. */
export class SharedWatch<K extends WatchedKind> {
  readonly kind: K;
  readonly namespace: string;
  private readonly access: ClusterAccess;
  private readonly options: SharedWatchOptions;
  private readonly labelSelector: string;

  private readonly cache: WatchCache<WatchedObject<K>>;
  /** When a silent watch is due for a check; learned from its bookmarks across its connections. */
  private readonly silentSchedule: SilentWatchSchedule;
  private needsList = true;
  private failures = 0;
  /** After a watch was found silent, a new one counts as up only once it delivers something. */
  private upNeedsDelivery = false;
  /** Incremented whenever the watch comes up: a poll that started before is stale. */
  private upGeneration = 0;

  private started = false;
  private readonly stopController = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private currentWatch: AbortController | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollInFlight: Promise<void> = Promise.resolve();

  private isReady = false;
  private readonly readyWaiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();
  private currentStatus: WatchStatus = { state: "starting", since: Date.now(), polling: false };
  private readonly statusListeners = new Set<(status: WatchStatus) => void>();

  constructor(access: ClusterAccess, namespace: string, kind: K, options: SharedWatchOptions = {}) {
    if (!namespace) throw new Error("SharedWatch needs a namespace");
    this.access = access;
    this.namespace = namespace;
    this.kind = kind;
    this.options = options;
    this.labelSelector = options.labelSelector ?? MANAGED_BY_SELECTOR;
    this.cache = new WatchCache(
      options.onListenerError ?? ((error: unknown) => console.error("[paperclip] shared watch subscriber failed:", error)),
    );
    this.silentSchedule = new SilentWatchSchedule({ floorMs: options.silentAfterMs ?? DEFAULTS.silentAfterMs, ceilingMs: this.idleTimeoutMs() });
  }

  private idleTimeoutMs(): number {
    return this.options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs;
  }

  /** Starts listing and watching (idempotent). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.loop = this.run();
  }

  /** Ends the watch, the poll and every timer; pending `ready()` calls reject. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopController.abort(new Error(`watch of ${this.describeTarget()} stopped`));
      this.currentWatch?.abort();
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
      this.rejectReadyWaiters(new Error(`watch of ${this.describeTarget()} was stopped before its first list`));
      this.setStatus({ state: "stopped", polling: false });
    }
    await Promise.all([this.loop, this.pollInFlight]);
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  /**
   * Resolves once the initial LIST is in the cache. Rejects when the watch stops first, or when
   * `signal` aborts (e.g. `AbortSignal.timeout(ms)`) with the reason the list has not succeeded.
   */
  ready(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return Promise.reject(new Error(`watch of ${this.describeTarget()} is stopped`));
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.readyWaiters.delete(waiter);
        const why = this.currentStatus.lastError ?? "its first list has not completed";
        reject(new Error(`watch of ${this.describeTarget()} is not ready: ${why}`));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error: Error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.readyWaiters.add(waiter);
    });
  }

  status(): WatchStatus {
    return { ...this.currentStatus };
  }

  /** Current state of the named object, from the cache (read only). */
  get(name: string): WatchedObject<K> | undefined {
    return this.cache.get(name);
  }

  list(predicate?: (object: WatchedObject<K>) => boolean): WatchedObject<K>[] {
    return this.cache.list(predicate);
  }

  /**
   * Events for one object (by name), for the objects carrying one label value (an index lookup per
   * event), or for every object a predicate accepts (evaluated on each event's object), delivered
   * synchronously and in order. Subscribing replays nothing: call
   * `get()` right after subscribing (same tick, so nothing can slip between).
   */
  subscribe(target: WatchTarget<WatchedObject<K>>, listener: WatchListener<WatchedObject<K>>): () => void {
    return this.cache.subscribe(target, listener);
  }

  /** Up/down transitions (not called for the current state). */
  onStatus(listener: (status: WatchStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private describeTarget(): string {
    return `${this.kind} in namespace "${this.namespace}"`;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let end: WatchEnd;
      try {
        if (this.needsList) await this.relist(true);
        end = this.stopped ? { kind: "stopped" } : await this.watchOnce();
      } catch (error) {
        end = this.stopped ? { kind: "stopped" } : { kind: "error", healthy: false, error };
      }
      if (end.kind === "stopped") break;
      if (end.kind === "gone") this.needsList = true;
      if (end.kind === "silent") this.upNeedsDelivery = true;
      if (end.healthy) this.failures = 0;
      if (end.healthy && end.kind !== "error") continue;
      this.failures++;
      // A healthy watch that broke gets one quick restart before anyone is told it is down.
      if (!end.healthy) {
        const reason =
          end.kind === "error"
            ? describeApiError(end.error)
            : end.kind === "silent"
              ? end.reason
              : end.kind === "gone"
                ? "watch answered 410 Gone right after a fresh list"
                : "watch closed without delivering anything";
        this.markDown(reason);
      }
      await this.pause(this.restartDelayMs(end.kind === "error" ? end.error : undefined));
    }
  }

  private restartDelayMs(error: unknown): number {
    const backoff = this.options.backoff ?? DEFAULTS.backoff;
    const delay = backoffDelayMs(this.failures - 1, backoff, this.options.random);
    const disposition = classifyError(error);
    return disposition.retry === "rate-limited" ? Math.max(delay, disposition.retryAfterMs ?? 0) : delay;
  }

  private async pause(ms: number): Promise<void> {
    await abortableSleep(ms, this.stopController.signal).catch(() => undefined);
  }

  /** LIST and apply the diff; `retry` adds the retry policy (the main loop), polls try once. Returns how many objects changed. */
  private async relist(retry: boolean): Promise<number> {
    const generation = this.upGeneration;
    const spec: KindSpec<WatchedObject<K>> = KINDS[this.kind];
    const signal = this.stopController.signal;
    const fetchList = () => spec.list(this.access, this.namespace, this.labelSelector, signal);
    const list = retry
      ? await withRetry(fetchList, {
          maxAttempts: 3,
          signal,
          random: this.options.random,
          description: `list ${this.describeTarget()}`,
          onRetry: ({ error }) => {
            this.currentStatus.lastError = describeApiError(error);
          },
        })
      : await fetchList();
    if (!list.resourceVersion) throw new Error(`list ${this.describeTarget()}: the answer has no resourceVersion`);
    // A poll that raced with the watch coming back is older than what the watch delivers.
    if (this.stopped || (!retry && generation !== this.upGeneration)) return 0;
    // List items come without apiVersion and kind; watch objects carry them. Keep one shape, and the same parts.
    const items = list.items.map((item) => {
      item.apiVersion ??= spec.apiVersion;
      item.kind ??= spec.kind;
      return this.cached(ObjectSerializer.serialize(item, spec.model, ""));
    });
    const changed = this.cache.applyList(items, list.resourceVersion);
    this.silentSchedule.listed();
    this.needsList = false;
    this.markReady();
    return changed;
  }

  /** The model object the cache keeps for an object's JSON (see `KindSpec.cached`). */
  private cached(object: Record<string, unknown>): WatchedObject<K> {
    const spec: KindSpec<WatchedObject<K>> = KINDS[this.kind];
    return spec.cached(object);
  }

  /** One WATCH request from the cache's version, until it ends; says how it ended. */
  private async watchOnce(): Promise<WatchEnd> {
    const startedAt = Date.now();
    let delivered = false;
    let connected = false;
    let abortedBy: "idle" | "error-event" | "silent" | undefined;
    let silentReason = "";
    let errorEvent: unknown;
    let controller: AbortController | undefined;
    let resolveEnd: (error: unknown) => void = () => undefined;
    let ended = false;
    const end = new Promise<unknown>((resolve) => {
      resolveEnd = resolve;
    });
    const done = (error: unknown) => {
      ended = true;
      resolveEnd(error ?? undefined);
    };
    const abort = (why: "idle" | "error-event" | "silent") => {
      abortedBy ??= why;
      controller?.abort();
    };
    let lastDeliveryAt = Date.now();
    let checking = false;
    const idleTimeoutMs = this.idleTimeoutMs();
    const checkSilence = () => {
      if (checking) return;
      checking = true;
      const silentForMs = this.silentSchedule.silentForMs();
      void this.missedWhileSilent().then((missed) => {
        checking = false;
        if (ended || abortedBy) return;
        if (missed === undefined) this.silentSchedule.postponed();
        else if (missed === 0) this.silentSchedule.foundNothingMissed();
        else {
          silentReason = `watch connected but delivered nothing for ${Math.round(silentForMs / 1000)} s while a list found ${missed} change(s) it missed; replacing it`;
          return abort("silent");
        }
        silentCheckTimer.arm();
        // Past its idle limit, the quiet connection is re-opened now.
        idleTimer.arm();
      });
    };
    const silentCheckTimer = new DeadlineTimer(() => this.silentSchedule.dueAt(), checkSilence);
    // A watch due for the silent check is checked before it is re-opened: one that missed changes is then replaced
    // and reported (`down`), not re-opened as if it had only been quiet.
    const idleTimer: DeadlineTimer = new DeadlineTimer(
      () => lastDeliveryAt + idleTimeoutMs,
      () => {
        if (checking) return;
        if (Date.now() >= this.silentSchedule.dueAt()) {
          silentCheckTimer.stop();
          return checkSilence();
        }
        abort("idle");
      },
    );
    const timeoutSeconds = this.options.timeoutSeconds ?? 240 + Math.floor((this.options.random ?? Math.random)() * 61);
    const query = {
      labelSelector: this.labelSelector,
      resourceVersion: this.cache.version,
      allowWatchBookmarks: true,
      timeoutSeconds,
    };
    try {
      controller = await openWatchStream(
        this.access.kubeConfig,
        KINDS[this.kind].path(this.namespace),
        query,
        (type: string, object: unknown) => {
          if (abortedBy) return;
          lastDeliveryAt = Date.now();
          if (this.silentSchedule.heard(type === "BOOKMARK")) silentCheckTimer.arm();
          delivered = true;
          if (this.upNeedsDelivery) {
            this.upNeedsDelivery = false;
            this.markUp();
          }
          if (type === "ERROR") {
            errorEvent = object;
            abort("error-event");
          } else if (type === "BOOKMARK") {
            const version = isRecord(object) && isRecord(object.metadata) ? object.metadata.resourceVersion : undefined;
            if (typeof version === "string") this.cache.advanceTo(version);
          } else if ((type === "ADDED" || type === "MODIFIED" || type === "DELETED") && isRecord(object)) {
            this.cache.applyEvent(type, this.cached(object));
          }
        },
        done,
      );
    } catch (error) {
      done(error);
    }
    if (!ended) {
      connected = true;
      this.currentWatch = controller;
      if (this.stopped) controller?.abort();
      else {
        if (!this.upNeedsDelivery) this.markUp();
        lastDeliveryAt = Date.now();
        this.silentSchedule.connected();
        idleTimer.arm();
        silentCheckTimer.arm();
      }
    }
    const error = await end;
    idleTimer.stop();
    silentCheckTimer.stop();
    this.currentWatch = undefined;
    if (this.stopped) return { kind: "stopped" };
    const healthy = connected && (delivered || Date.now() - startedAt >= (this.options.healthyAfterMs ?? DEFAULTS.healthyAfterMs));
    if (abortedBy === "error-event") {
      const status = apiStatusOf({ body: errorEvent });
      if (status?.code === 410 || status?.reason === "Expired" || status?.reason === "Gone") return { kind: "gone", healthy };
      return { kind: "error", healthy, error: Object.assign(new Error("watch ERROR event"), { statusCode: status?.code, body: errorEvent }) };
    }
    if (abortedBy === "silent") return { kind: "silent", healthy: false, reason: silentReason };
    // A watch we found silent stayed open the whole idle period: restarting it is routine.
    if (abortedBy === "idle") return { kind: "idle", healthy: connected };
    if (error instanceof Error && error.name === "TimeoutError") return { kind: "idle", healthy };
    if (error === undefined) return { kind: "closed", healthy };
    if (httpStatusOf(error) === 410) return { kind: "gone", healthy };
    return { kind: "error", healthy, error };
  }

  /**
   * For a watch that has been silent: how many changes a LIST shows that it did not deliver (they are
   * delivered now). Undefined when there was no LIST: nobody follows this watch (nothing waits on it), or it
   * is down (polls keep the cache fresh), or the LIST failed.
   */
  private async missedWhileSilent(): Promise<number | undefined> {
    if (this.currentStatus.state === "down" || !this.cache.hasSubscribers()) return undefined;
    try {
      return await this.relist(false);
    } catch (error) {
      if (!this.stopped) this.currentStatus.lastError = describeApiError(error);
      return undefined;
    }
  }

  private markReady(): void {
    if (this.isReady) return;
    this.isReady = true;
    for (const waiter of this.readyWaiters) waiter.resolve();
    this.readyWaiters.clear();
  }

  private rejectReadyWaiters(error: Error): void {
    for (const waiter of this.readyWaiters) waiter.reject(error);
    this.readyWaiters.clear();
  }

  private markUp(): void {
    this.upGeneration++;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    if (this.currentStatus.state !== "up") this.setStatus({ state: "up", polling: false });
  }

  private markDown(reason: string): void {
    if (this.currentStatus.state === "down") {
      this.currentStatus.lastError = reason;
      return;
    }
    this.setStatus({ state: "down", lastError: reason, polling: true });
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pollInFlight = this.poll();
    }, this.options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    if (this.currentStatus.state !== "down") return;
    try {
      await this.relist(false);
    } catch (error) {
      if (!this.stopped) this.currentStatus.lastError = describeApiError(error);
    }
    if (this.currentStatus.state === "down") this.schedulePoll();
  }

  private setStatus(change: { state: WatchState; lastError?: string; polling: boolean }): void {
    const lastError = change.lastError ?? this.currentStatus.lastError;
    this.currentStatus = { state: change.state, since: Date.now(), polling: change.polling };
    if (lastError !== undefined) this.currentStatus.lastError = lastError;
    const snapshot = this.status();
    for (const listener of [...this.statusListeners]) this.cache.safely(() => listener(snapshot));
  }
}
