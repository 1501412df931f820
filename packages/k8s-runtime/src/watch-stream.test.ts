import { createServer } from "node:http";
import { type SimCluster, startSimCluster } from "paperclip-k8s-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ClusterAccess, clusterAccessFor, forgetClusterAccess } from "./cluster-access.ts";
import { apiStatusOf, describeApiError, httpStatusOf } from "./retry-policy.ts";
import { LineSplitter, openWatchStream, type WatchQuery } from "./watch-stream.ts";

const NAMESPACE = "default";
const CONFIGMAPS = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const LABEL = "watch-stream-test";

let cluster: SimCluster;
let admin: ClusterAccess;
beforeAll(async () => {
  cluster = await startSimCluster({ tls: true, bookmarkIntervalMs: 100 });
  admin = clusterAccessFor(JSON.stringify(cluster.kubeconfig));
});
afterAll(async () => {
  forgetClusterAccess();
  await cluster?.stop();
});
afterEach(() => cluster.faults.clear());

interface Recorded {
  events: { type: string; object: unknown }[];
  ends: unknown[];
  ended: Promise<unknown>;
  controller: AbortController;
}

/** Opens a watch that records every event and every `onDone` call. */
async function record(access: ClusterAccess, query: WatchQuery, path = CONFIGMAPS): Promise<Recorded> {
  const events: Recorded["events"] = [];
  const ends: unknown[] = [];
  let resolveEnded: (error: unknown) => void = () => undefined;
  const ended = new Promise<unknown>((resolve) => {
    resolveEnded = resolve;
  });
  const controller = await openWatchStream(
    access.kubeConfig,
    path,
    query,
    (type, object) => events.push({ type, object }),
    (error) => {
      ends.push(error);
      resolveEnded(error);
    },
  );
  return { events, ends, ended, controller };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function configMap(name: string, value: string) {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: NAMESPACE, labels: { test: LABEL } }, data: { value } };
}

describe("LineSplitter", () => {
  it("gives each line once, whatever the chunk boundaries, also inside a multi-byte UTF-8 character", () => {
    const text = '{"type":"ADDED","object":{"name":"naïve ✓ 日本 🚀"}}\n\n{"type":"DELETED"}\n{"tail":"€"}';
    const bytes = Buffer.from(text);
    for (let first = 0; first <= bytes.length; first++) {
      for (const second of [first, Math.min(bytes.length, first + 1), Math.min(bytes.length, first + 3)]) {
        const splitter = new LineSplitter();
        const lines = [
          ...splitter.push(bytes.subarray(0, first)),
          ...splitter.push(bytes.subarray(first, second)),
          ...splitter.push(bytes.subarray(second)),
          splitter.end(),
        ];
        expect(lines).toEqual(text.split("\n"));
      }
    }
  });
});

describe("openWatchStream against the simulated cluster (TLS, bearer token)", () => {
  it("delivers the events in the store's order, objects larger than a chunk and non-ASCII text intact, and bookmarks", async () => {
    const start = cluster.store.currentRevision();
    const watch = await record(admin, { labelSelector: `test=${LABEL}`, resourceVersion: String(start), allowWatchBookmarks: true, timeoutSeconds: 30 });
    // 300 KB of multi-byte text: many TLS records and socket reads, so characters and lines span chunks.
    const big = "naïve ✓ 日本 🚀 ".repeat(15_000);
    const names = ["first", "second", "third"].map((name) => `${LABEL}-${name}`);
    for (const name of names) cluster.store.create("configmaps", configMap(name, big + name));
    cluster.store.remove("configmaps", NAMESPACE, names[1] ?? "");
    await until(() => watch.events.some((event) => event.type === "BOOKMARK"), "a bookmark");
    watch.controller.abort();
    await watch.ended;

    const objects = watch.events.filter((event) => event.type !== "BOOKMARK");
    expect(objects.map(({ type, object }) => [type, Reflect.get(Reflect.get(Object(object), "metadata"), "name")])).toEqual([
      ["ADDED", names[0]],
      ["ADDED", names[1]],
      ["ADDED", names[2]],
      ["DELETED", names[1]],
    ]);
    const stored = cluster.store.get("configmaps", NAMESPACE, names[2] ?? "");
    expect(objects[2]?.object).toEqual(JSON.parse(JSON.stringify(stored)));
    const bookmark = watch.events.find((event) => event.type === "BOOKMARK");
    expect(bookmark?.object).toMatchObject({ kind: "ConfigMap", metadata: { resourceVersion: String(cluster.store.currentRevision()) } });
    for (const name of names) cluster.store.remove("configmaps", NAMESPACE, name);
  });

  it("ends with null when the server closes the stream (timeoutSeconds)", async () => {
    const watch = await record(admin, { labelSelector: `test=${LABEL}`, resourceVersion: String(cluster.store.currentRevision()), timeoutSeconds: 1 });
    expect(await watch.ended).toBeNull();
    expect(watch.ends).toEqual([null]);
  });

  it("ends a 403 with the error client-node's Watch gave: the status text and its code", async () => {
    const stranger = clusterAccessFor(
      JSON.stringify({ ...cluster.kubeconfig, users: cluster.kubeconfig.users.map(({ name }) => ({ name, user: { token: cluster.serviceAccountToken(NAMESPACE, "default") } })) }),
    );
    const watch = await record(stranger, {});
    // Already ended when the promise resolved, as with client-node's Watch.
    expect(watch.ends).toHaveLength(1);
    const error = watch.ends[0];
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: "Forbidden", statusCode: 403 });
    expect(httpStatusOf(error)).toBe(403);
    expect(describeApiError(error)).toContain("403");
  });

  it("delivers a 410 as the API server sends it, an ERROR event with the Expired status, then ends", async () => {
    cluster.faults.goneOnNextWatch("configmaps");
    const watch = await record(admin, { resourceVersion: "1" });
    expect(await watch.ended).toBeNull();
    expect(watch.events.map((event) => event.type)).toEqual(["ERROR"]);
    expect(apiStatusOf({ body: watch.events[0]?.object })).toMatchObject({ code: 410, reason: "Expired" });
  });

  it("ends an answer with another status (503) with its code, so the shared watch backs off", async () => {
    cluster.faults.failRequests({ verb: "watch", resource: "configmaps", response: { kind: "status", status: 503 }, count: 1 });
    const watch = await record(admin, {});
    expect(watch.ends).toEqual([expect.objectContaining({ message: "Service Unavailable", statusCode: 503 })]);
  });

  it("ends once when aborted, and the server sees the watch closed", async () => {
    const watch = await record(admin, { labelSelector: `test=${LABEL}`, allowWatchBookmarks: true });
    await until(() => cluster.requests.snapshot().openWatches.configmaps === 1, "the watch to be open");
    watch.controller.abort();
    expect(await watch.ended).toBeInstanceOf(Error);
    await until(() => !cluster.requests.snapshot().openWatches.configmaps, "the server to see the watch closed");
    expect(watch.ends).toHaveLength(1);
  });
});

describe("openWatchStream against a server that sends something else than watch events", () => {
  it.each([
    ["a line that is not JSON", "not json\n", /watch sent a line that is not JSON/],
    ["JSON without an event type", '{"object":{}}\n', /watch sent a line that is not an event \(no "type"\)/],
  ])("ends with an error naming %s, after the events before it", async (_what, bad, message) => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.write('{"type":"ADDED","object":{"metadata":{"name":"before"}}}\n');
      response.end(bad);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("the test server has no TCP address");
      const { port } = address;
      const kubeconfig = {
        ...cluster.kubeconfig,
        clusters: cluster.kubeconfig.clusters.map(({ name }) => ({ name, cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } })),
      };
      const watch = await record(clusterAccessFor(JSON.stringify(kubeconfig)), {});
      const error = await watch.ended;
      expect(watch.events).toEqual([{ type: "ADDED", object: { metadata: { name: "before" } } }]);
      expect(error).toBeInstanceOf(Error);
      expect(String(error)).toMatch(message);
      expect(watch.ends).toHaveLength(1);
    } finally {
      server.close();
    }
  });
});
