/**
 * The simulated cluster of the shared-watch tests (`shared-watch.test.ts`, `completion.test.ts`): one per test file (or `describe`),
 * its faults cleared and the watches a test started stopped after each test, and Jobs that only the test changes.
 */
import { type SimCluster, startSimCluster } from "paperclip-k8s-sim";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type ClusterAccess, clusterAccessFor, forgetClusterAccess } from "../cluster-access.ts";
import { stopSharedWatches } from "../shared-watch.ts";

export const WATCH_TEST_NAMESPACE = "default";
export const MANAGED_LABELS = { "app.kubernetes.io/managed-by": "paperclip" };

export interface WatchTestCluster {
  readonly cluster: SimCluster;
  readonly access: ClusterAccess;
  /** Stopped after the test. */
  track(...watches: { stop(): Promise<void> }[]): void;
  /** A suspended Job (no pod): its controller leaves it alone apart from the Suspended condition. */
  createSuspendedJob(name: string, labels?: Record<string, string>): void;
}

/**
 * Registers the hooks of the file (or of the `describe` it is called in); the cluster and its access exist from
 * `beforeAll` on. Its watches get a BOOKMARK every `bookmarkIntervalMs` (default 100 ms: fast enough for tests).
 */
export function useWatchTestCluster(options: { bookmarkIntervalMs?: number } = {}): WatchTestCluster {
  let cluster: SimCluster | undefined;
  let access: ClusterAccess | undefined;
  const started: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    cluster = await startSimCluster({ bookmarkIntervalMs: options.bookmarkIntervalMs ?? 100 });
    access = clusterAccessFor(cluster.kubeconfigPath);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((watch) => watch.stop()));
    await stopSharedWatches();
    cluster?.faults.clear();
  });
  afterAll(async () => {
    forgetClusterAccess();
    await cluster?.stop();
  });
  const notStarted = (what: string) => new Error(`${what} is used before beforeAll started the cluster`);
  return {
    get cluster() {
      if (!cluster) throw notStarted("the cluster");
      return cluster;
    },
    get access() {
      if (!access) throw notStarted("the cluster's access");
      return access;
    },
    track: (...watches) => void started.push(...watches),
    createSuspendedJob(name, labels = MANAGED_LABELS) {
      this.cluster.store.create("jobs", {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name, namespace: WATCH_TEST_NAMESPACE, labels },
        spec: {
          suspend: true,
          backoffLimit: 0,
          template: {
            metadata: { labels },
            spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "registry.example.test/none:1" }] },
          },
        },
      });
    },
  };
}
