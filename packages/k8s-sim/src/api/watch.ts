import type { ServerResponse } from "node:http";
import type { FaultRules } from "../faults.ts";
import type { K8sObject, ObjectStore, SharedObject, StoreEvent } from "../store.ts";
import { StoreError } from "../store.ts";
import type { RequestAccounting } from "./accounting.ts";
import type { ResourceInfo } from "./resources.ts";
import { apiVersionOf } from "./resources.ts";
import type { ObjectFilter } from "./selectors.ts";
import { failureStatus } from "./status.ts";

export interface WatchRequest {
  resource: ResourceInfo;
  namespace: string | undefined;
  filter: ObjectFilter | undefined;
  /** Resume after this revision; undefined starts with the current state as ADDED events. */
  sinceRevision: number | undefined;
  allowBookmarks: boolean;
  timeoutSeconds: number | undefined;
  /** Period of the BOOKMARKs of a watch that allows them; 0 sends none. */
  bookmarkIntervalMs: number;
  /** How objects are rendered in events (a Table row for kubectl); default: as stored. */
  present?: (object: K8sObject) => unknown;
}

/** Each stored object version serialized once, however many watches send it (store events share their object). */
const serialized = new WeakMap<SharedObject, string>();

function jsonOf(object: SharedObject): string {
  let json = serialized.get(object);
  if (json === undefined) {
    json = JSON.stringify(object);
    serialized.set(object, json);
  }
  return json;
}

export interface WatchDeps {
  store: ObjectStore;
  faults: FaultRules;
  requests: RequestAccounting;
}

/**
 * Streams a watch as the API server does: one JSON event per line over a chunked 200 response.
 * Objects that start or stop matching the selector arrive as ADDED / DELETED (as the watch cache
 * does). Ends cleanly on `timeoutSeconds` or an injected cut; `410 Gone` is an ERROR event.
 */
export function serveWatch(response: ServerResponse, request: WatchRequest, deps: WatchDeps): void {
  const { resource } = request;
  const { store, faults } = deps;
  response.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  response.flushHeaders();
  const closeAccounting = deps.requests.watchOpened(resource.plural);
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | undefined;
  let ended = false;
  let eventsSent = 0;
  const cut = faults.takeWatchCut(resource.plural);

  const finish = () => {
    if (ended) return;
    ended = true;
    unsubscribe?.();
    for (const timer of timers) clearTimeout(timer);
    closeAccounting();
    unregister();
    // A held stream ends the way a proxy holding its bytes would: without them.
    if (!response.writableEnded) response.end();
  };
  response.on("close", finish);

  // Bytes held back by the `hold` fault: the connection stays open and silent until released.
  let held: string[] | undefined;
  const send = (text: string) => {
    if (held) held.push(text);
    else response.write(text);
  };
  const writeJson = (type: string, objectJson: string) => {
    if (ended) return;
    send(`{"type":${JSON.stringify(type)},"object":${objectJson}}\n`);
  };
  const write = (type: string, object: unknown) => writeJson(type, JSON.stringify(object));
  const expire = (message: string) => {
    write("ERROR", failureStatus(410, "Expired", message));
    finish();
  };
  const unregister = faults.openWatches.register({
    resource: resource.plural,
    drop: () => {
      response.socket?.destroy();
      finish();
    },
    hold: () => {
      held ??= [];
    },
    release: () => {
      const pending = held ?? [];
      held = undefined;
      if (!response.writableEnded) for (const text of pending) response.write(text);
    },
    expire: () => {
      held = undefined;
      expire(`too old resource version: ${request.sinceRevision ?? 0} (${store.currentRevision()})`);
    },
  });

  if (faults.takeGone(resource.plural)) {
    expire(`too old resource version: ${request.sinceRevision ?? 0} (${store.currentRevision()})`);
    return;
  }

  // What this watch has seen (matching or not) and shown, so selector transitions become
  // ADDED / DELETED. A resumed watch cannot know what the client saw before it: an object it
  // has not seen yet keeps the store's event type.
  const seen = new Set<string>();
  const visible = new Set<string>();
  const typeFor = (event: StoreEvent, uid: string): string | undefined => {
    const nowMatches = !request.filter || request.filter(event.object);
    const known = seen.has(uid);
    const wasVisible = visible.has(uid);
    seen.add(uid);
    if (event.type === "DELETED") {
      visible.delete(uid);
      return wasVisible || (!known && nowMatches) ? "DELETED" : undefined;
    }
    if (!nowMatches) {
      visible.delete(uid);
      return wasVisible ? "DELETED" : undefined;
    }
    visible.add(uid);
    if (wasVisible) return "MODIFIED";
    return known ? "ADDED" : event.type;
  };
  const deliver = (event: StoreEvent) => {
    if (ended) return;
    const type = typeFor(event, event.object.metadata.uid ?? "");
    if (!type) return;
    writeJson(type, request.present ? JSON.stringify(request.present(event.object)) : jsonOf(event.object));
    eventsSent++;
    if (cut?.afterEvents !== undefined && eventsSent >= cut.afterEvents) finish();
  };

  try {
    unsubscribe = store.watch(resource.plural, { namespace: request.namespace, sinceRevision: request.sinceRevision }, deliver);
  } catch (error) {
    if (error instanceof StoreError && error.code === 410) {
      expire(error.message);
      return;
    }
    throw error;
  }
  if (ended) {
    // A cut after N events can fire during the replay, before `unsubscribe` was assigned.
    unsubscribe();
    return;
  }

  if (request.timeoutSeconds !== undefined) timers.push(setTimeout(finish, request.timeoutSeconds * 1000));
  if (cut?.afterMs !== undefined) timers.push(setTimeout(finish, cut.afterMs));
  if (request.allowBookmarks && request.bookmarkIntervalMs > 0) {
    // As kube-apiserver's watch cache: a bookmark every period whatever else was sent, and one 2 s before the deadline.
    const bookmark = () =>
      write("BOOKMARK", {
        kind: resource.kind,
        apiVersion: apiVersionOf(resource),
        metadata: { resourceVersion: String(store.currentRevision()) },
      });
    timers.push(setInterval(bookmark, request.bookmarkIntervalMs));
    const beforeDeadlineMs = request.timeoutSeconds === undefined ? 0 : request.timeoutSeconds * 1000 - 2000;
    if (beforeDeadlineMs > 0) timers.push(setTimeout(bookmark, beforeDeadlineMs));
  }
}
