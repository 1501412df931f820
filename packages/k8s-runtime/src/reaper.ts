import { rm } from "node:fs/promises";
import path from "node:path";
import type { V1Job, V1Secret } from "@kubernetes/client-node";
import { deleteRunSecret, judgeRunSecret, UNOWNED_RUN_SECRET_GRACE_MS } from "./agent-lock.ts";
import { deleteJob } from "./cleanup.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { ANNOTATION_RETAIN, ANNOTATION_RUN_DIRECTORY, MANAGED_SELECTOR } from "./labels.ts";
import { followedJobs, jobIsFinished, jobKey } from "./launch-guard.ts";
import { withRetry } from "./retry-policy.ts";
import { isRunDirectoryUnder, readRetainUntil, sweepRunDirectories } from "./run-retention.ts";
import { holderJobOf } from "./run-secret.ts";
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

/**
 * Run Secrets left behind, past the grace period: their Job is gone (deleted with orphan propagation, or the
 * server crashed before its owner patch) or finished (a cleanup that failed, a retained Job). Pure: `jobs`
 * is the watch's cache of managed Jobs, complete once it has listed.
 */
export function runSecretsToReap(secrets: readonly V1Secret[], jobs: readonly V1Job[], now: number, graceMs: number): V1Secret[] {
  const jobsByName = new Map(jobs.map((job) => [job.metadata?.name ?? "", job]));
  return secrets.filter((secret) => {
    const holder = holderJobOf(secret);
    const verdict = judgeRunSecret(secret, (holder && jobsByName.get(holder)) || null, now, graceMs);
    const created = secret.metadata?.creationTimestamp ? new Date(secret.metadata.creationTimestamp).getTime() : Number.NaN;
    // Young Secrets wait even when their Job looks gone: a Job just created may not be in the cache yet.
    return verdict.stale && !(now - created < graceMs);
  });
}

const reapers = new Map<string, { lease: SharedWatchLease<"jobs">; pods: SharedWatchLease<"pods">; timer: NodeJS.Timeout; sweep: () => Promise<void> }>();

/**
 * Run directories some Job or pod still points at, in any namespace this process watches: one instance root
 * may serve agents in several namespaces, so no namespace's reaper may judge a directory by its own Jobs
 * alone. Pods count too: a pod left running by a Job deleted without propagation still writes its directory,
 * and removing files under a running agent would let it swap a directory for a link mid-removal.
 */
function liveRunDirectories(): Set<string> {
  const dirs = new Set<string>();
  for (const { lease, pods } of reapers.values()) {
    for (const object of [...lease.watch.list(), ...pods.watch.list()]) {
      const dir = object.metadata?.annotations?.[ANNOTATION_RUN_DIRECTORY];
      if (dir) dirs.add(dir);
    }
  }
  return dirs;
}

/**
 * Step 13, the reaper: once per cluster and namespace, periodically deletes managed Jobs whose run is
 * over and that no run reattached within the grace period (runs that ended while the server was down,
 * or whose cleanup failed), with their run directories unless a failed run's are retained for a while.
 * Then sweeps the run directories: expired retentions, and directories no Job owns that a crashed server
 * left behind. Reads Jobs only from the shared watch's cache; lists the managed Secrets once per sweep to
 * delete run Secrets left behind (`runSecretsToReap`).
 */
export function ensureReaper(cluster: ClusterAccess, namespace: string, instanceRoot: string, graceMs = REAP_GRACE_MS): void {
  const key = JSON.stringify([cluster.key, namespace, instanceRoot]);
  const runsRoot = path.join(instanceRoot, "data", "k8s-runs");
  if (reapers.has(key)) return;
  const lease = acquireSharedWatch(cluster, namespace, "jobs");
  const pods = acquireSharedWatch(cluster, namespace, "pods");
  const sweep = async () => {
    const now = Date.now();
    if (lease.watch.status().state === "up") await reapRunSecrets(cluster, namespace, lease.watch.list(), now).catch(() => {});
    for (const job of jobsToReap(lease.watch.list(), now, graceMs)) {
      const name = job.metadata?.name;
      if (!name) continue;
      await deleteJob(cluster, namespace, name).catch(() => {});
      const runDirectory = job.metadata?.annotations?.[ANNOTATION_RUN_DIRECTORY];
      if (!runDirectory || !isRunDirectoryUnder(runsRoot, runDirectory)) continue;
      // Its pod is still listed (being deleted): the sweep takes the directory once the pod is gone.
      if (pods.watch.list((pod) => pod.metadata?.annotations?.[ANNOTATION_RUN_DIRECTORY] === runDirectory).length > 0) continue;
      const retainedUntil = await readRetainUntil(runDirectory);
      if (retainedUntil === null || now >= retainedUntil) await rm(runDirectory, { recursive: true, force: true }).catch(() => {});
    }
    // Only once every watch has listed: before that, a live run's directory would look unowned.
    if ([...reapers.values()].every((held) => held.lease.watch.status().state === "up" && held.pods.watch.status().state === "up")) {
      await sweepRunDirectories({ runsRoot, now, liveRunDirectories: liveRunDirectories() }).catch(() => []);
    }
  };
  const timer = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  timer.unref();
  reapers.set(key, { lease, pods, timer, sweep });
}

/** Deletes left-behind run Secrets of one namespace (each only if it is still the one judged: uid precondition). */
async function reapRunSecrets(cluster: ClusterAccess, namespace: string, jobs: readonly V1Job[], now: number): Promise<void> {
  const secrets = await withRetry(() => cluster.core.listNamespacedSecret({ namespace, labelSelector: MANAGED_SELECTOR }), {
    description: `list Secrets in ${namespace}`,
  });
  for (const secret of runSecretsToReap(secrets.items, jobs, now, UNOWNED_RUN_SECRET_GRACE_MS)) {
    const { name, uid } = secret.metadata ?? {};
    if (name && uid) await deleteRunSecret(cluster, namespace, name, uid).catch(() => {});
  }
}

/** Runs every reaper's sweep now and waits for it (tests, and a server that wants a sweep before shutting down). */
export async function runReapersOnce(): Promise<void> {
  await Promise.all([...reapers.values()].map(({ sweep }) => sweep()));
}

/** Stops every reaper (process shutdown, tests). */
export function stopReapers(): void {
  for (const { lease, pods, timer } of reapers.values()) {
    clearInterval(timer);
    lease.release();
    pods.release();
  }
  reapers.clear();
}
