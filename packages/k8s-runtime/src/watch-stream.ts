/**
 * One Kubernetes WATCH request, read as newline-delimited JSON events, for `shared-watch-stream.ts`. It replaces
 * client-node 2.0.1's `Watch`, which reads through `fetch` and WHATWG streams (per chunk a chain of promises and
 * `process.nextTick`s in the Paperclip process); this is undici's `request` with its Node stream, on the cluster's
 * watch pool and authenticated exactly like every other request (`authenticatedRequest` in `kube-json.ts`).
 *
 * Its contract is `Watch.watch`'s, so the shared watch treats every ending as before: the promise resolves once the
 * answer's headers are in (or it failed; then `onDone` was called first); `onDone` is called exactly once, with
 * `null` when the server ends the stream, else the error; a non-2xx answer ends it with an `Error` named after the
 * HTTP status carrying `statusCode`; 30 s without an answer (as `Watch`), or 90 s without a byte of it, ends it with a
 * `TimeoutError` (undici's own header and body timers). The body's limit is above kube-apiserver's bookmark cadence,
 * so a quiet watch that asks for bookmarks is not cut: `Watch` cut every watch after 30 s without a byte.
 */
import { STATUS_CODES } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { HttpMethod, type KubeConfig } from "@kubernetes/client-node";
import { errors, request } from "undici";
import { authenticatedRequest } from "./kube-json.ts";

export type WatchQuery = Record<string, string | number | boolean | undefined>;

/** As client-node's `Watch`: an API server answers a watch's headers at once, so no answer in this long has failed. */
const WATCH_HEADERS_TIMEOUT_MS = 30_000;

/** kube-apiserver's watch cache sends a BOOKMARK this often, whatever else it sends (`defaultBookmarkFrequency`). */
const KUBE_APISERVER_BOOKMARK_PERIOD_MS = 60_000;

/** A watch (that asked for bookmarks) without a byte for this long has failed: 1.5 × kube-apiserver's bookmark period. */
export const WATCH_INACTIVITY_TIMEOUT_MS = 1.5 * KUBE_APISERVER_BOOKMARK_PERIOD_MS;

/** Splits a byte stream into its lines, decoding UTF-8 across chunk boundaries. */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  /** The complete lines this chunk finishes, without their `\n`. */
  push(chunk: Buffer): string[] {
    const decoded = this.decoder.write(chunk);
    // Most chunks of a large object end no line: keep appending (V8 joins strings without copying) until one does.
    if (!decoded.includes("\n")) {
      this.pending += decoded;
      return [];
    }
    const lines = (this.pending + decoded).split("\n");
    this.pending = lines.pop() ?? "";
    return lines;
  }

  /** What is left after the last `\n` (a stream need not end with one). */
  end(): string {
    const rest = this.pending + this.decoder.end();
    this.pending = "";
    return rest;
  }
}

function timeoutError(): DOMException {
  return new DOMException("The operation was aborted due to timeout", "TimeoutError");
}

/** A watch event line's type and object; an error naming the problem when the line is not one. */
function parseEvent(line: string): { type: string; object: unknown } {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch (error) {
    throw new Error(`watch sent a line that is not JSON (${line.length} characters): ${error instanceof Error ? error.message : String(error)}`);
  }
  const type: unknown = typeof event === "object" && event !== null ? Reflect.get(event, "type") : undefined;
  if (typeof event !== "object" || event === null || typeof type !== "string") {
    throw new Error(`watch sent a line that is not an event (no "type"): ${line.slice(0, 200)}`);
  }
  return { type, object: Reflect.get(event, "object") };
}

/**
 * Opens `GET <server><path>?watch=true&<query>` and calls `onEvent` for each event in order, then `onDone` once.
 * Aborting the returned controller ends it (`onDone` gets the abort's error).
 */
export async function openWatchStream(
  kubeConfig: KubeConfig,
  path: string,
  query: WatchQuery,
  onEvent: (type: string, object: unknown) => void,
  onDone: (error: unknown) => void,
): Promise<AbortController> {
  const controller = new AbortController();
  let doneCalled = false;
  const done = (error: unknown) => {
    if (doneCalled) return;
    doneCalled = true;
    controller.abort();
    const timedOut = error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
    onDone(timedOut ? timeoutError() : error);
  };
  try {
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error("No currently active cluster");
    const url = new URL(server + path);
    url.searchParams.set("watch", "true");
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const { headers, dispatcher } = await authenticatedRequest(kubeConfig, url.toString(), HttpMethod.GET, {});
    const response = await request(url, {
      method: "GET",
      headers,
      dispatcher,
      signal: controller.signal,
      headersTimeout: WATCH_HEADERS_TIMEOUT_MS,
      bodyTimeout: WATCH_INACTIVITY_TIMEOUT_MS,
    });
    const { statusCode, body } = response;
    if (statusCode !== 200) {
      await body.dump();
      throw Object.assign(new Error(STATUS_CODES[statusCode] ?? "Internal Server Error"), { statusCode });
    }
    const lines = new LineSplitter();
    const deliver = (line: string) => {
      if (doneCalled || line.trim() === "") return;
      const { type, object } = parseEvent(line);
      onEvent(type, object);
    };
    body.on("data", (chunk: Buffer) => {
      try {
        for (const line of lines.push(chunk)) deliver(line);
      } catch (error) {
        done(error);
      }
    });
    body.on("end", () => {
      try {
        deliver(lines.end());
        done(null);
      } catch (error) {
        done(error);
      }
    });
    body.on("error", done);
    body.on("close", () => done(null));
  } catch (error) {
    done(error);
  }
  return controller;
}
