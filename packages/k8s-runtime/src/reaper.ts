import { rm } from "node:fs/promises";
import path from "node:path";
import type { V1Job } from "@kubernetes/client-node";
import { deleteJob } from "./cleanup.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { ANNOTATION_RETAIN, ANNOTATION_RUN_DIRECTORY } from "./labels.ts";
import { followedJobs, jobIsFinished, jobKey } from "./launch-guard.ts";
import { isSafePathSegment } from "./names.ts";
import { acquireSharedWatch, type SharedWatchLease } from "./shared-watch.ts";

/** How long a finished Job waits for a reattaching run before the reaper deletes it. */
export const REAP_GRACE_MS = 10 * 60_000;
const SWEEP_INTERVAL_MS = 60_000;

function finishedAt(job: V1Job): number | null {
  if (!jobIsFinished(job)) return null;
  const times = (job.status?.conditions ?? [])
    .filter((condition) => condition.status === "True" && (condition.type === "Complete" || condition.type === "Failed"))
    .map((condition) => (condition.lastTransitionTime ? new Date(condition.lastTransitionTime).getTime() : Number.NaN));
  const completion = job.status?.completionTime ? new Date(job.status.completionTime).getTime() : Number.NaN;
  const known = [...times, completion].filter((time) => Number.isFinite(time));
  return known.length > 0 ? Math.min(...known) : null;
}

/** Finished managed Jobs nobody follows or retains, past the grace period. Pure, from the watch cache. */
export function jobsToReap(jobs: readonly V1Job[], now: number, graceMs: number): V1Job[] {
  return jobs.filter((job) => {
    if (job.metadata?.annotations?.[ANNOTATION_RETAIN] === "true" || followedJobs.has(jobKey(job))) return false;
    const finished = finishedAt(job);
    return finished !== null && now - finished >= graceMs;
  });
}

/** Only `<runsRoot>/<company>/<agent>/<run>` with safe segments: an annotation must not point the reaper elsewhere. */
export function isRunDirectoryUnder(runsRoot: string, dir: string): boolean {
  const segments = path.relative(runsRoot, path.resolve(dir)).split(path.sep);
  return segments.length === 3 && segments.every(isSafePathSegment);
}

const reapers = new Map<string, { lease: SharedWatchLease<"jobs">; timer: NodeJS.Timeout }>();

/**
 * Step 13, the reaper: once per cluster and namespace, periodically deletes managed Jobs whose run is
 * over and that no run reattached within the grace period (runs that ended while the server was down,
 * or whose cleanup failed), with their run directories. Reads only the shared watch's cache.
 */
export function ensureReaper(cluster: ClusterAccess, namespace: string, instanceRoot: string, graceMs = REAP_GRACE_MS): void {
  const key = JSON.stringify([cluster.key, namespace, instanceRoot]);
  const runsRoot = path.join(instanceRoot, "data", "k8s-runs");
  if (reapers.has(key)) return;
  const lease = acquireSharedWatch(cluster, namespace, "jobs");
  const sweep = async () => {
    for (const job of jobsToReap(lease.watch.list(), Date.now(), graceMs)) {
      const name = job.metadata?.name;
      if (!name) continue;
      await deleteJob(cluster, namespace, name).catch(() => {});
      const runDirectory = job.metadata?.annotations?.[ANNOTATION_RUN_DIRECTORY];
      if (runDirectory && isRunDirectoryUnder(runsRoot, runDirectory)) {
        await rm(runDirectory, { recursive: true, force: true }).catch(() => {});
      }
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  timer.unref();
  reapers.set(key, { lease, timer });
}

/** Stops every reaper (process shutdown, tests). */
export function stopReapers(): void {
  for (const { lease, timer } of reapers.values()) {
    clearInterval(timer);
    lease.release();
  }
  reapers.clear();
}
