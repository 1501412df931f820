import { deleteJob, podIsStopped } from "./cleanup.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { releaseAgentLock, type RunSecretRef } from "./agent-lock.ts";
import { describeApiError } from "./retry-policy.ts";
import { removeRunDirectory, type RunDirectory } from "./run-directory.ts";
import { retainRunDirectory } from "./run-retention.ts";
import type { RunLog } from "./run-log.ts";

/** What a run may have created, by name: the Job (its pod goes with it), the per-run Secret, the run directory. */
export interface RunLeftovers {
  cluster: ClusterAccess;
  namespace: string;
  jobName: string;
  /** The run Secret once this run holds it (it is the agent's lock: never delete another run's by name). */
  secret: RunSecretRef | null;
  runDirectory: RunDirectory;
  /** `retainJobs`: the operator keeps everything for analysis. */
  retain: boolean;
}

/**
 * After an unexpected error, whatever of the run exists goes: the error may have struck anywhere between the
 * Secret's creation and the end, so each piece is removed on its own (the Secret too: it may have no owner yet),
 * and a piece that is not there counts as removed. Never throws; failures are said in the run log.
 */
export async function removeRunLeftovers(leftovers: RunLeftovers, log: RunLog): Promise<void> {
  const { cluster, namespace, jobName, secret, runDirectory } = leftovers;
  // The Secret goes even with retainJobs: a finished Job needs no credentials, and it is the agent's lock.
  if (secret !== null) {
    await releaseAgentLock(cluster, secret).catch((error: unknown) =>
      log.info(`Could not delete Secret ${secret.namespace}/${secret.name}: ${describeApiError(error)}; the reaper will retry.`),
    );
  }
  if (leftovers.retain) {
    await log.info(`retainJobs: keeping Job ${namespace}/${jobName} and ${runDirectory.dir} after the error`);
    return;
  }
  await deleteJob(cluster, namespace, jobName).catch((error: unknown) =>
    log.info(`Could not delete Job ${namespace}/${jobName}: ${describeApiError(error)}; the reaper will retry.`),
  );
  // A running agent could swap a directory for a link under the removal: wait for its pod to stop first.
  if (!(await podsStopped(cluster, namespace, jobName))) {
    await retainRunDirectory(runDirectory, Date.now()).catch(() => {});
    await log.info(`The pod of Job ${namespace}/${jobName} has not stopped; the reaper removes ${runDirectory.dir} once it has.`);
    return;
  }
  await removeRunDirectory(runDirectory).catch((error: unknown) => log.info(`Could not remove ${runDirectory.dir}: ${String(error)}`));
}

const POD_STOP_POLL_MS = 500;
const POD_STOP_LIMIT_MS = 45_000;

/**
 * True once no pod of the Job can run (none left, or all terminal or with every container terminated). Asks
 * the API: this path follows an unexpected error, where the run's view of the watch may be gone. False on
 * timeout or when the API cannot say.
 */
async function podsStopped(cluster: ClusterAccess, namespace: string, jobName: string): Promise<boolean> {
  const deadline = Date.now() + POD_STOP_LIMIT_MS;
  for (;;) {
    const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` }).catch(() => null);
    if (pods !== null && pods.items.every(podIsStopped)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POD_STOP_POLL_MS));
  }
}
