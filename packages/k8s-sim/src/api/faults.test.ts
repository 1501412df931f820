import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "../testing/clients.ts";
import { apiError, startSimWithClients } from "../testing/clients.ts";

let sim: SimClients;
beforeAll(async () => {
  sim = await startSimWithClients();
});
afterAll(async () => {
  await sim.cluster.stop();
});

describe("request faults", () => {
  it("answers 500 and 503 with Status bodies for the chosen verb and resource, for N requests", async () => {
    sim.cluster.faults.failRequests({ verb: "list", resource: "secrets", response: { kind: "status", status: 500 }, count: 1 });
    sim.cluster.faults.failRequests({ verb: "list", resource: "secrets", response: { kind: "status", status: 503 }, count: 1 });
    const first = await apiError(sim.core.listNamespacedSecret({ namespace: "default" }));
    expect(first.code).toBe(500);
    expect(first.body).toMatchObject({ kind: "Status", reason: "InternalError", code: 500 });
    const second = await apiError(sim.core.listNamespacedSecret({ namespace: "default" }));
    expect(second.body).toMatchObject({ reason: "ServiceUnavailable", code: 503 });
    await expect(sim.core.listNamespacedSecret({ namespace: "default" })).resolves.toMatchObject({ items: [] });
    await expect(sim.core.listNamespacedConfigMap({ namespace: "default" })).resolves.toBeDefined();
  });

  it("answers 429 with Retry-After", async () => {
    sim.cluster.faults.failRequests({ resource: "configmaps", response: { kind: "status", status: 429, retryAfterSeconds: 7 }, count: 1 });
    const response = await fetch(`${sim.cluster.url}/api/v1/namespaces/default/configmaps`);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await response.json()).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 7 } });
  });

  it("drops the connection without a response", async () => {
    sim.cluster.faults.failRequests({ verb: "get", resource: "namespaces", response: { kind: "drop" }, count: 1 });
    await expect(sim.core.readNamespace({ name: "default" })).rejects.toThrow();
    await expect(sim.core.readNamespace({ name: "default" })).resolves.toMatchObject({ metadata: { name: "default" } });
  });

  it("takes fault instructions over HTTP and rejects unknown ones", async () => {
    const post = (body: unknown) =>
      fetch(`${sim.cluster.url}/_sim/faults`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post({ failRequests: { verb: "get", resource: "nodes", response: { kind: "status", status: 503 }, count: 1 } })).status).toBe(200);
    expect((await apiError(sim.core.readNode({ name: "sim-node-1" }))).code).toBe(503);
    const typo = await post({ failRequest: {} });
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as { message: string }).message).toContain("unknown fault instruction(s): failRequest");
    expect((await post({ latency: { verb: "get", ms: 5 } })).status).toBe(200);
    expect(sim.cluster.faults.latencyMs("get", "pods")).toBe(5);
    expect((await post({ clear: true })).status).toBe(200);
    expect(sim.cluster.faults.latencyMs("get", "pods")).toBe(0);
  });
});

describe("request accounting", () => {
  it("counts requests by verb and resource, per user agent, and serves them over HTTP", async () => {
    await fetch(`${sim.cluster.url}/_sim/requests`, { method: "DELETE" });
    await sim.core.listNamespacedPod({ namespace: "default" });
    await sim.core.readNamespace({ name: "default" });
    await sim.core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: "counted" } } });
    await fetch(`${sim.cluster.url}/api/v1/namespaces/default/pods/missing/log`, { headers: { "User-Agent": "probe/1" } });
    const snapshot = sim.cluster.requests.snapshot();
    expect(snapshot.byResource).toEqual({
      pods: { list: 1 },
      namespaces: { get: 1 },
      configmaps: { create: 1 },
      "pods/log": { get: 1 },
    });
    expect(snapshot.total).toBe(4);
    expect(snapshot.byUserAgent["probe/1"]).toEqual({ "pods/log": { get: 1 } });
    expect(sim.cluster.requests.count({ verb: "list" })).toBe(1);
    const served: unknown = await (await fetch(`${sim.cluster.url}/_sim/requests`)).json();
    expect(served).toEqual(snapshot);
  });
});
