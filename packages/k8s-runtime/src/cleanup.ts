import type { V1Pod } from "@kubernetes/client-node";
import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import { releaseAgentLock, type RunSecretRef } from "./agent-lock.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import type { JobTracker } from "./job-tracker.ts";
import { describeApiError, httpStatusOf, withRetry } from "./retry-policy.ts";
import type { FileCalls } from "./file-calls.ts";
import { removeRunDirectory, type RunDirectory } from "./run-directory.ts";
import type { RunLog } from "./run-log.ts";
import { retainRunDirectory } from "./run-retention.ts";

/**
 * Deletes a Job with Background propagation: its pod and its Secret (owned through
 * ownerReferences) go with it. A Job that is already gone counts as deleted.
 */
export async function deleteJob(cluster: ClusterAccess, namespace: string, name: string): Promise<void> {
  try {
    await withRetry(() => cluster.runObjects.deleteJob(namespace, name), { description: `delete Job ${namespace}/${name}` });
  } catch (error) {
    if (httpStatusOf(error) !== 404) throw error;
  }
}

/** A run whose files are worth keeping for diagnosis: it failed (an operator's cancel is not a failure). */
export function runFailed(result: Pick<AdapterExecutionResult, "errorCode" | "exitCode">): boolean {
  return result.errorCode ? result.errorCode !== "cancelled" : result.exitCode !== 0;
}

/** How long cleanup waits, beyond the pod's grace period, for its containers to stop before leaving the files to the reaper. */
export const POD_STOP_WAIT_EXTRA_MS = 30_000;
/** The same wait when someone else deleted the Job: its pod may be orphaned and run on. */
export const JOB_GONE_POD_STOP_WAIT_MS = 3_000;

/**
 * True once no process of the pod can run any more: the pod is gone or never appeared, its phase is
 * terminal, or every container has terminated. Read from the shared watch's cache; no requests.
 */
export function podHasStopped(tracker: JobTracker): boolean {
  const pod = tracker.pod();
  return !pod || tracker.podGone() || podIsStopped(pod);
}

/** No process of this pod can run: its phase is terminal, or every container has terminated. */
export function podIsStopped(pod: V1Pod): boolean {
  if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return true;
  const statuses = pod.status?.containerStatuses ?? [];
  const containers = pod.spec?.containers ?? [];
  return containers.length > 0 && containers.every((container) => statuses.find((status) => status.name === container.name)?.state?.terminated);
}

/** Waits (on watch events) until `podHasStopped`; false after `timeoutMs`. */
export async function awaitPodStopped(tracker: JobTracker, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (podHasStopped(tracker)) return true;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    await tracker.nextChange(Math.min(remaining, 1_000));
  }
}

/**
 * Step 13: the run's Secret always goes (also with `retainJobs`: a finished Job needs no credentials, and the
 * Secret is the agent's lock); the run's Job and files go unless `retainJobs`; a failed run's files stay
 * `retainFilesOnFailureSec` longer (recorded in `retain-until`, for the reaper). The files are removed only
 * once the pod has stopped: until then a hostile agent could swap a directory for a link under the removal.
 * Failures are logged, never thrown: the run's result is already decided, and the reaper retries what is left.
 */
export async function cleanUpRun(input: {
  cluster: ClusterAccess;
  namespace: string;
  jobName: string;
  secret: RunSecretRef;
  runDirectory: RunDirectory;
  /** The file calls of the run directory's filesystem. */
  fileCalls: FileCalls;
  retain: boolean;
  retainFilesOnFailureSec: number | undefined;
  failed: boolean;
  /** The run's view of its pod: the files wait for it to stop, at most `podStopWaitMs`. */
  tracker: JobTracker;
  podStopWaitMs: number;
  log: RunLog;
}): Promise<void> {
  if (!input.retain) {
    try {
      await deleteJob(input.cluster, input.namespace, input.jobName);
    } catch (error) {
      await input.log.info(`Could not delete Job ${input.namespace}/${input.jobName}: ${describeApiError(error)}; the reaper will retry.`);
    }
  }
  // Explicitly, not only through the Job's ownerReference: the owner patch may have failed, and a retained Job stays.
  try {
    await releaseAgentLock(input.cluster, input.secret);
  } catch (error) {
    await input.log.info(`Could not delete Secret ${input.secret.namespace}/${input.secret.name}: ${describeApiError(error)}; the reaper will retry.`);
  }
  if (input.retain) {
    await input.log.info(`retainJobs: keeping Job ${input.namespace}/${input.jobName} and ${input.runDirectory.dir}`);
    return;
  }
  const retainSec = input.failed ? (input.retainFilesOnFailureSec ?? 0) : 0;
  if (retainSec > 0) {
    await retainRunDirectory(input.runDirectory, Date.now() + retainSec * 1000).then(
      () => input.log.info(`Keeping the failed run's files in ${input.runDirectory.dir} for ${retainSec}s (retainRunFilesOnFailureSec).`),
      (error: unknown) => input.log.info(`Could not mark ${input.runDirectory.dir} for retention: ${String(error)}`),
    );
    return;
  }
  if (!(await awaitPodStopped(input.tracker, input.podStopWaitMs))) {
    // An expired retention: the reaper's sweep removes the files once no Job or pod points at them any more.
    await retainRunDirectory(input.runDirectory, Date.now()).catch(() => {});
    await input.log.info(`The pod of Job ${input.namespace}/${input.jobName} has not stopped; the reaper removes ${input.runDirectory.dir} once it has.`);
    return;
  }
  await removeRunDirectory(input.runDirectory, input.fileCalls).catch(async (error: unknown) => {
    await input.log.info(`Could not remove ${input.runDirectory.dir}: ${String(error)}`);
  });
}
