import type { ObjectStore, StoreListener } from "../store.ts";

export type ReconcileErrorHandler = (error: unknown, controller: string, key: string) => void;

export interface ReconcileLoopOptions {
  /** Names the controller in error reports. */
  controller: string;
  /** Brings one object (by key) to its desired state; runs outside any store listener. */
  reconcile: (key: string) => void;
  /** Told about a reconcile or listener that threw; the loop carries on. Default: console.error. */
  onError?: ReconcileErrorHandler;
}

const reportToConsole: ReconcileErrorHandler = (error, controller, key) => {
  console.error(`[k8s-sim ${controller}] ${key}:`, error);
};

/**
 * A controller's work queue: store events mark keys dirty, and each dirty key is reconciled once
 * on the next turn of the event loop (never inside the store's emit, so every listener sees
 * events in order). Delayed keys use one timer per key. One failing key never stops the others.
 */
export class ReconcileLoop {
  private readonly controller: string;
  private readonly reconcile: (key: string) => void;
  private readonly onError: ReconcileErrorHandler;
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { dueAt: number; timer: NodeJS.Timeout }>();
  private readonly unsubscribes: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(options: ReconcileLoopOptions) {
    this.controller = options.controller;
    this.reconcile = options.reconcile;
    this.onError = options.onError ?? reportToConsole;
  }

  /** Subscribes to a resource for the loop's lifetime; a throwing listener is reported, not fatal. */
  listen(store: ObjectStore, resource: string, listener: StoreListener): void {
    this.unsubscribes.push(
      store.subscribe(resource, (event) => {
        if (this.stopped) return;
        try {
          listener(event);
        } catch (error) {
          this.onError(error, this.controller, `${resource} ${event.type} ${event.object.metadata.name ?? ""}`);
        }
      }),
    );
  }

  enqueue(key: string): void {
    if (this.stopped) return;
    this.dirty.add(key);
    this.scheduled ??= setImmediate(() => this.drain());
  }

  /** Reconciles `key` after `delayMs`, unless an earlier wake-up is already pending. */
  enqueueAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const dueAt = Date.now() + Math.max(0, delayMs);
    const pending = this.delayed.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.enqueue(key);
    }, Math.max(0, delayMs));
    this.delayed.set(key, { dueAt, timer });
  }

  stop(): void {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.dirty.clear();
  }

  private drain(): void {
    this.scheduled = undefined;
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.reconcile(key);
      } catch (error) {
        this.onError(error, this.controller, key);
      }
    }
  }
}

/** `namespace/name` for namespaced objects (the queue key every controller here uses). */
export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

export function splitObjectKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
