import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "../testing/clients.ts";
import { eventually, startSimWithClients } from "../testing/clients.ts";

interface SeenEvent {
  type: string;
  name: string | undefined;
  resourceVersion: string | undefined;
  object: { kind?: string; code?: number; reason?: string; message?: string; metadata?: { name?: string; resourceVersion?: string } };
}

interface Recorder {
  events: SeenEvent[];
  /** Resolves with the stream's end (error or null). */
  ended: Promise<unknown>;
  abort(): void;
}

let sim: SimClients;
beforeAll(async () => {
  sim = await startSimWithClients({ bookmarkIntervalMs: 100 });
  await sim.core.createNamespace({ body: { metadata: { name: "w" } } });
});
afterAll(async () => {
  await sim.cluster.stop();
});

async function record(path: string, query: Record<string, string | number | boolean | undefined>, clients = sim): Promise<Recorder> {
  const events: SeenEvent[] = [];
  let resolveEnded: (value: unknown) => void = () => {};
  const ended = new Promise((resolve) => {
    resolveEnded = resolve;
  });
  const controller = await clients.watch.watch(
    path,
    query,
    (type, object: SeenEvent["object"]) => {
      events.push({ type, name: object.metadata?.name, resourceVersion: object.metadata?.resourceVersion, object });
    },
    (error) => resolveEnded(error ?? null),
  );
  return { events, ended, abort: () => controller.abort() };
}

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}-${++counter}`;
const configMaps = "/api/v1/namespaces/w/configmaps";

describe("watch", () => {
  it("starts with ADDED for current objects, then streams ADDED / MODIFIED / DELETED in order", async () => {
    const existing = uniqueName("pre");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name: existing, labels: { suite: "order" } } } });
    const watch = await record(configMaps, { labelSelector: "suite=order" });
    await eventually(() => (watch.events.length >= 1 ? true : undefined));
    const name = uniqueName("live");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name, labels: { suite: "order" } } } });
    await sim.core.patchNamespacedConfigMap(
      { namespace: "w", name, body: [{ op: "add", path: "/data", value: { a: "1" } }] },
      (await import("@kubernetes/client-node")).setHeaderOptions("Content-Type", "application/json-patch+json"),
    );
    await sim.core.deleteNamespacedConfigMap({ namespace: "w", name });
    await eventually(() => (watch.events.length >= 4 ? true : undefined));
    watch.abort();
    expect(watch.events.map((e) => [e.type, e.name])).toEqual([
      ["ADDED", existing],
      ["ADDED", name],
      ["MODIFIED", name],
      ["DELETED", name],
    ]);
    const versions = watch.events.slice(1).map((e) => Number(e.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  });

  it("resumes after a resourceVersion, replaying only later changes", async () => {
    const list = await sim.core.listNamespacedConfigMap({ namespace: "w" });
    const after = uniqueName("after");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name: after } } });
    const watch = await record(configMaps, { resourceVersion: list.metadata?.resourceVersion });
    await eventually(() => (watch.events.length >= 1 ? true : undefined));
    watch.abort();
    expect(watch.events.map((e) => [e.type, e.name])).toEqual([["ADDED", after]]);
  });

  it("answers a too-old resourceVersion with one ERROR 410 Expired event, then ends", async () => {
    const list = await sim.core.listNamespacedConfigMap({ namespace: "w" });
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name: uniqueName("compacted") } } });
    sim.cluster.store.compact();
    const watch = await record(configMaps, { resourceVersion: list.metadata?.resourceVersion });
    expect(await watch.ended).toBeNull();
    expect(watch.events).toHaveLength(1);
    expect(watch.events[0]?.type).toBe("ERROR");
    expect(watch.events[0]?.object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
    expect(watch.events[0]?.object.message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it("sends 410 on the next watch when told to (fault)", async () => {
    sim.cluster.faults.goneOnNextWatch("configmaps");
    const gone = await record(configMaps, {});
    await gone.ended;
    expect(gone.events.map((e) => [e.type, e.object.code])).toEqual([["ERROR", 410]]);
    const next = await record(configMaps, { labelSelector: "nothing=here", timeoutSeconds: 1 });
    await next.ended;
    expect(next.events.filter((e) => e.type === "ERROR")).toEqual([]);
  });

  it("sends BOOKMARK events with the current resourceVersion when allowWatchBookmarks is set", async () => {
    const watch = await record(configMaps, { allowWatchBookmarks: true, labelSelector: "nothing=here" });
    const bookmark = await eventually(() => watch.events.find((e) => e.type === "BOOKMARK"));
    watch.abort();
    expect(bookmark.object.kind).toBe("ConfigMap");
    expect(Number(bookmark.resourceVersion)).toBeGreaterThan(0);
    const plain = await record(configMaps, { labelSelector: "nothing=here", timeoutSeconds: 1 });
    await plain.ended;
    expect(plain.events).toEqual([]);
  });

  it("sends BOOKMARKs on their period however busy the watch is, as kube-apiserver's watch cache does", async () => {
    const watch = await record(configMaps, { allowWatchBookmarks: true, labelSelector: "suite=busy" });
    // A change every 10 ms for a second: the watch is never quiet for the 100 ms bookmark period.
    let created = 0;
    const writer = setInterval(() => {
      created++;
      sim.cluster.store.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: uniqueName("busy"), namespace: "w", labels: { suite: "busy" } } });
    }, 10);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    clearInterval(writer);
    await eventually(() => (watch.events.filter((e) => e.type === "ADDED").length === created ? true : undefined));
    watch.abort();
    const types = watch.events.map((e) => e.type);
    const betweenChanges = types.slice(types.indexOf("ADDED"), types.lastIndexOf("ADDED"));
    expect(betweenChanges.filter((type) => type === "BOOKMARK").length).toBeGreaterThanOrEqual(5);
  });

  it("ends cleanly at timeoutSeconds and releases the watch", async () => {
    const watch = await record("/api/v1/namespaces/w/secrets", { timeoutSeconds: 1 });
    expect(await watch.ended).toBeNull();
    expect(watch.events).toEqual([]);
    await eventually(() => (sim.cluster.requests.snapshot().openWatches.secrets === undefined ? true : undefined));
  });

  it("turns selector transitions into ADDED and DELETED, as the watch cache does", async () => {
    const name = uniqueName("moving");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name, labels: { phase: "a" } } } });
    const watch = await record(configMaps, { labelSelector: "phase=b" });
    const { setHeaderOptions } = await import("@kubernetes/client-node");
    const merge = setHeaderOptions("Content-Type", "application/merge-patch+json");
    await sim.core.patchNamespacedConfigMap({ namespace: "w", name, body: { metadata: { labels: { phase: "b" } } } }, merge);
    await sim.core.patchNamespacedConfigMap({ namespace: "w", name, body: { data: { x: "1" } } }, merge);
    await sim.core.patchNamespacedConfigMap({ namespace: "w", name, body: { metadata: { labels: { phase: "c" } } } }, merge);
    await eventually(() => (watch.events.length >= 3 ? true : undefined));
    watch.abort();
    expect(watch.events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
  });

  it("filters watches by field selector", async () => {
    const wanted = uniqueName("field");
    const watch = await record(configMaps, { fieldSelector: `metadata.name=${wanted}` });
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name: uniqueName("other") } } });
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name: wanted } } });
    await eventually(() => (watch.events.length >= 1 ? true : undefined));
    watch.abort();
    expect(watch.events.map((e) => e.name)).toEqual([wanted]);
  });

  it("stops the server side of a watch when the client disconnects", async () => {
    const watch = await record("/api/v1/namespaces/w/persistentvolumeclaims", {});
    await eventually(() => (sim.cluster.requests.snapshot().openWatches.persistentvolumeclaims === 1 ? true : undefined));
    watch.abort();
    await eventually(() => (sim.cluster.requests.snapshot().openWatches.persistentvolumeclaims === undefined ? true : undefined));
    expect(sim.cluster.requests.snapshot().watchesOpened.persistentvolumeclaims).toBe(1);
  });

  it("cuts a watch after N events without an ERROR event (fault)", async () => {
    for (let i = 0; i < 3; i++) {
      await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name: uniqueName("cut"), labels: { suite: "cut" } } } });
    }
    sim.cluster.faults.cutWatches({ resource: "configmaps", afterEvents: 2, count: 1 });
    const watch = await record(configMaps, { labelSelector: "suite=cut" });
    expect(await watch.ended).toBeNull();
    expect(watch.events.map((e) => e.type)).toEqual(["ADDED", "ADDED"]);
  });
});

describe("faults on open watches", () => {
  const openConfigMapWatches = () => sim.cluster.requests.snapshot().openWatches.configmaps ?? 0;

  it("drops the connection of an open watch: the client sees an error, not a clean end", async () => {
    const watch = await record(configMaps, { labelSelector: "suite=drop" });
    await eventually(() => (openConfigMapWatches() === 1 ? true : undefined));
    expect(sim.cluster.faults.actOnOpenWatches("drop", "configmaps")).toBe(1);
    expect(await watch.ended).toBeInstanceOf(Error);
    await eventually(() => (openConfigMapWatches() === 0 ? true : undefined));
  });

  it("holds back every byte of an open watch (no events, no bookmarks) until released, connection kept", async () => {
    const watch = await record(configMaps, { labelSelector: "suite=hold", allowWatchBookmarks: true });
    await eventually(() => watch.events.find((e) => e.type === "BOOKMARK"));
    expect(sim.cluster.faults.actOnOpenWatches("hold", "configmaps")).toBe(1);
    const before = watch.events.length;
    const name = uniqueName("held");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name, labels: { suite: "hold" } } } });
    // Bookmarks come every 100 ms here: five intervals of silence show the stream is held.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(watch.events.length).toBe(before);
    expect(openConfigMapWatches()).toBe(1);
    expect(sim.cluster.faults.actOnOpenWatches("release", "configmaps")).toBe(1);
    const added = await eventually(() => watch.events.find((e) => e.type === "ADDED" && e.name === name));
    expect(added.object.metadata?.name).toBe(name);
    watch.abort();
  });

  it("holds every watch, new ones too, until released", async () => {
    const open = await record(configMaps, { labelSelector: "suite=hold-all" });
    await eventually(() => (openConfigMapWatches() === 1 ? true : undefined));
    expect(sim.cluster.faults.holdAllWatches("configmaps")).toBe(1);
    const later = await record(configMaps, { labelSelector: "suite=hold-all", allowWatchBookmarks: true });
    await eventually(() => (openConfigMapWatches() === 2 ? true : undefined));
    const name = uniqueName("all-held");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name, labels: { suite: "hold-all" } } } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([open.events.length, later.events.length]).toEqual([0, 0]);
    expect(sim.cluster.faults.actOnOpenWatches("release", "configmaps")).toBe(2);
    for (const watch of [open, later]) await eventually(() => watch.events.find((e) => e.type === "ADDED" && e.name === name));
    open.abort();
    later.abort();
    const fresh = await record(configMaps, { labelSelector: "suite=hold-all" });
    await eventually(() => fresh.events.find((e) => e.name === name));
    fresh.abort();
  });

  it("sends 410 Gone on an open watch and ends it", async () => {
    const watch = await record(configMaps, { labelSelector: "suite=expire" });
    await eventually(() => (openConfigMapWatches() === 1 ? true : undefined));
    expect(sim.cluster.faults.actOnOpenWatches("expire")).toBe(1);
    expect(await watch.ended).toBeNull();
    expect(watch.events.map((e) => [e.type, e.object.code, e.object.reason])).toEqual([["ERROR", 410, "Expired"]]);
  });

  it("takes the open-watch faults over HTTP, says how many watches they reached, and clear releases held ones", async () => {
    const post = async (body: unknown) =>
      (await fetch(`${sim.cluster.url}/_sim/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })).json();
    const watch = await record(configMaps, { labelSelector: "suite=http" });
    await eventually(() => (openConfigMapWatches() === 1 ? true : undefined));
    expect(await post({ holdOpenWatches: "configmaps" })).toEqual({ applied: true, openWatches: 1 });
    expect(await post({ dropOpenWatches: "secrets" })).toEqual({ applied: true, openWatches: 0 });
    const name = uniqueName("cleared");
    await sim.core.createNamespacedConfigMap({ namespace: "w", body: { metadata: { name, labels: { suite: "http" } } } });
    expect(await post({ clear: true })).toEqual({ applied: true });
    await eventually(() => watch.events.find((e) => e.name === name));
    expect(await post({ expireOpenWatches: true })).toEqual({ applied: true, openWatches: 1 });
    expect(await watch.ended).toBeNull();
    expect(watch.events.at(-1)?.object.code).toBe(410);
    expect(await post({ dropOpenWatches: 3 })).toMatchObject({ code: 400 });
    expect(JSON.stringify(await post({ dropOpenWatches: 3 }))).toContain("dropOpenWatches must be a resource name or true");
  });
});

describe("bookmark cadence", () => {
  it("defaults to kube-apiserver's one minute, with one bookmark 2 s before the timeoutSeconds deadline", async () => {
    const defaults = await startSimWithClients();
    try {
      const watch = await record("/api/v1/namespaces/default/configmaps", { allowWatchBookmarks: true, labelSelector: "nothing=here", timeoutSeconds: 3 }, defaults);
      expect(await watch.ended).toBeNull();
      expect(watch.events.map((e) => e.type)).toEqual(["BOOKMARK"]);
    } finally {
      await defaults.cluster.stop();
    }
  });

  it("sends none with bookmarkIntervalMs 0, as a server whose watches bypass its watch cache", async () => {
    const without = await startSimWithClients({ bookmarkIntervalMs: 0 });
    try {
      const watch = await record("/api/v1/namespaces/default/configmaps", { allowWatchBookmarks: true, labelSelector: "nothing=here", timeoutSeconds: 3 }, without);
      expect(await watch.ended).toBeNull();
      expect(watch.events).toEqual([]);
    } finally {
      await without.cluster.stop();
    }
  });

  it("refuses a period that is not a whole number of milliseconds a timer can wait", async () => {
    for (const bookmarkIntervalMs of [-1, 1.5, 2 ** 31]) {
      await expect(startSimWithClients({ bookmarkIntervalMs })).rejects.toThrow(`bookmarkIntervalMs must be a whole number of milliseconds from 0 (no bookmarks) to ${2 ** 31 - 1}, got ${bookmarkIntervalMs}`);
    }
  });
});
