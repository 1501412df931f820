import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimCluster } from "../cluster.ts";
import { startSimCluster } from "../cluster.ts";

let cluster: SimCluster;
beforeAll(async () => {
  cluster = await startSimCluster();
});
afterAll(async () => {
  await cluster.stop();
});

async function post(body: unknown): Promise<{ status: number; message: unknown; reason: unknown }> {
  const response = await fetch(`${cluster.url}/_sim/faults`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer: unknown = await response.json();
  const record = typeof answer === "object" && answer !== null ? answer : {};
  return { status: response.status, message: "message" in record ? record.message : undefined, reason: "reason" in record ? record.reason : undefined };
}

describe("POST /_sim/faults validation", () => {
  it("rejects a misspelt field inside a rule instead of widening the rule to every request", async () => {
    const typo = await post({ failRequests: { resorce: "jobs", response: { kind: "status", status: 503 } } });
    expect(typo).toEqual({
      status: 400,
      reason: "BadRequest",
      message: "unknown failRequests field(s): resorce; known: verb, resource, response, count, fraction",
    });
    expect(cluster.faults.takeRequestFault("get", "pods")).toBeUndefined();
    expect((await post({ latency: { ms: 5, verbs: "get" } })).message).toBe("unknown latency field(s): verbs; known: verb, resource, ms");
    expect((await post({ cutWatches: { afterEvents: 1, resource: 3 } })).message).toBe("cutWatches.resource must be a string");
    expect((await post({ evictPod: { namespace: "default", pod: "p", container: "c" } })).message).toBe(
      "unknown evictPod field(s): container; known: namespace, pod",
    );
    expect((await post({ clear: "yes" })).message).toBe("clear must be true");
  });

  it("rejects a hold key that could never match a pod", async () => {
    expect(await post({ holdInContainerCreating: "my-pod" })).toMatchObject({
      status: 400,
      message: 'holdInContainerCreating must be "namespace/name" or a prefix ending in *, got "my-pod"',
    });
    expect((await post({ holdInContainerCreating: "default/my-*" })).status).toBe(200);
    expect(cluster.faults.isHeldInContainerCreating("default", "my-pod")).toBe(true);
    expect((await post({ releaseContainerCreating: "default/my-*" })).status).toBe(200);
    expect(cluster.faults.isHeldInContainerCreating("default", "my-pod")).toBe(false);
  });

  it("answers 404 naming the target when a pod or node action has nothing to act on", async () => {
    expect(await post({ oomKill: { namespace: "default", pod: "ghost" } })).toEqual({
      status: 404,
      reason: "NotFound",
      message: "pod default/ghost is not running on this kubelet",
    });
    expect(await post({ evictPod: { namespace: "default", pod: "ghost" } })).toMatchObject({ status: 404, reason: "NotFound" });
    expect(await post({ removeNode: "ghost-node" })).toEqual({ status: 404, reason: "NotFound", message: 'node "ghost-node" does not exist' });
    expect((await post({ oomKill: { pod: "ghost" } })).message).toBe('oomKill needs "namespace" and "pod"');
  });
});

describe("GET /_sim/requests", () => {
  it("counts the TCP connections clients open, on both listeners, so keep-alive shows", async () => {
    /** One request on a connection of its own (no agent, `Connection: close`). */
    const oneShot = (path: string) =>
      new Promise<void>((resolve, reject) => {
        const sent = request(`${cluster.url}${path}`, { agent: false, headers: { Connection: "close" } }, (response) => {
          response.resume();
          response.on("end", resolve);
        });
        sent.on("error", reject);
        sent.end();
      });
    await fetch(`${cluster.url}/_sim/requests`, { method: "DELETE" });
    await oneShot("/version");
    await oneShot("/version");
    const answer: unknown = await (await fetch(`${cluster.url}/_sim/requests`)).json();
    // The two one-shot connections, and perhaps one for this GET (fetch may reuse the DELETE's, opened before the reset).
    const opened = typeof answer === "object" && answer !== null && "connectionsOpened" in answer ? answer.connectionsOpened : undefined;
    expect(opened).toBeGreaterThanOrEqual(2);
    expect(opened).toBeLessThanOrEqual(3);
    cluster.requests.reset();
    expect(cluster.requests.snapshot().connectionsOpened).toBe(0);
  });
});
