import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import type { SimCluster, SimClusterOptions } from "../cluster.ts";
import { startSimCluster } from "../cluster.ts";

/** A running sim with real client-node clients for it: what the sim's own tests talk through. */
export interface SimClients {
  cluster: SimCluster;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  watch: Watch;
}

export async function startSimWithClients(options: SimClusterOptions = {}): Promise<SimClients> {
  const cluster = await startSimCluster(options);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(JSON.stringify(cluster.kubeconfig));
  return {
    cluster,
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    batch: kubeConfig.makeApiClient(BatchV1Api),
    watch: new Watch(kubeConfig),
  };
}

/** The ApiException a call rejects with (fails when it resolves or throws something else). */
export async function apiError(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
      if (typeof body !== "object" || body === null) throw new Error(`ApiException without a JSON body: ${String(error.body)}`);
      return { code: error.code, body: { ...body } };
    }
    throw error;
  }
  throw new Error("expected the call to fail with an ApiException");
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A minimal Job whose one container runs `sh -c script`. */
export function shellJob(name: string, script: string, extra: { labels?: Record<string, string> } = {}) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", script] }] } },
    },
  };
}
