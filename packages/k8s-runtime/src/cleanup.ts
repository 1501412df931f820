import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import { releaseAgentLock, type RunSecretRef } from "./agent-lock.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { describeApiError, httpStatusOf, withRetry } from "./retry-policy.ts";
import { removeRunDirectory, type RunDirectory } from "./run-directory.ts";
import type { RunLog } from "./run-log.ts";
import { retainRunDirectory } from "./run-retention.ts";

/**
 * Deletes a Job with Background propagation: its pod and its Secret (owned through
 * ownerReferences) go with it. A Job that is already gone counts as deleted.
 */
export async function deleteJob(cluster: ClusterAccess, namespace: string, name: string): Promise<void> {
  try {
    await withRetry(
      () => cluster.batch.deleteNamespacedJob({ namespace, name, propagationPolicy: "Background" }),
      { description: `delete Job ${namespace}/${name}` },
    );
  } catch (error) {
    if (httpStatusOf(error) !== 404) throw error;
  }
}

/** A run whose files are worth keeping for diagnosis: it failed (an operator's cancel is not a failure). */
export function runFailed(result: Pick<AdapterExecutionResult, "errorCode" | "exitCode">): boolean {
  return result.errorCode ? result.errorCode !== "cancelled" : result.exitCode !== 0;
}

/**
 * Step 13: the run's Secret always goes (also with `retainJobs`: a finished Job needs no credentials, and the
 * Secret is the agent's lock); the run's Job and files go unless `retainJobs`; a failed run's files stay
 * `retainFilesOnFailureSec` longer (recorded in `retain-until`, for the reaper). Failures are logged,
 * never thrown: the run's result is already decided, and the reaper retries what is left.
 */
export async function cleanUpRun(input: {
  cluster: ClusterAccess;
  namespace: string;
  jobName: string;
  secret: RunSecretRef;
  runDirectory: RunDirectory;
  retain: boolean;
  retainFilesOnFailureSec: number | undefined;
  failed: boolean;
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
  const files =
    retainSec > 0
      ? retainRunDirectory(input.runDirectory, Date.now() + retainSec * 1000).then(() =>
          input.log.info(`Keeping the failed run's files in ${input.runDirectory.dir} for ${retainSec}s (retainRunFilesOnFailureSec).`),
        )
      : removeRunDirectory(input.runDirectory);
  await files.catch(async (error: unknown) => {
    await input.log.info(`Could not ${retainSec > 0 ? "mark" : "remove"} ${input.runDirectory.dir}: ${String(error)}`);
  });
}
