import { ApiException } from "@kubernetes/client-node";
import { type SimCluster, startSimCluster } from "paperclip-k8s-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterAccess, clusterAccessFor, forgetClusterAccess } from "./cluster-access.ts";
import { httpStatusOf } from "./retry-policy.ts";

let cluster: SimCluster;
let access: ClusterAccess;
beforeAll(async () => {
  cluster = await startSimCluster();
  access = clusterAccessFor(cluster.kubeconfigPath);
});
afterAll(async () => {
  forgetClusterAccess();
  await cluster?.stop();
});

describe("client-node's API clients on undici's request", () => {
  it("writes and reads what the API server stores, and a missing object is client-node's ApiException with its status", async () => {
    const name = "http-library-probe";
    await access.core.createNamespacedSecret({ namespace: "default", body: { metadata: { name }, stringData: { key: "value" } } });
    expect(cluster.store.get("secrets", "default", name)?.metadata.name).toBe(name);
    const read = await access.core.readNamespacedSecret({ namespace: "default", name });
    expect(read.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Buffer.from(read.data?.key ?? "", "base64").toString()).toBe("value");
    const missing = await access.core.readNamespacedSecret({ namespace: "default", name: "no-such-secret" }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiException);
    expect(httpStatusOf(missing)).toBe(404);
    await access.core.deleteNamespacedSecret({ namespace: "default", name });
    expect(cluster.store.get("secrets", "default", name)).toBeUndefined();
  });
});
