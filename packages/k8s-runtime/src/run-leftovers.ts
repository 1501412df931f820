import { deleteJob } from "./cleanup.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { deleteSecret } from "./launch.ts";
import { describeApiError } from "./retry-policy.ts";
import { removeRunDirectory, type RunDirectory } from "./run-directory.ts";
import type { RunLog } from "./run-log.ts";

/** What a run may have created, by name: the Job (its pod goes with it), the per-run Secret, the run directory. */
export interface RunLeftovers {
  cluster: ClusterAccess;
  namespace: string;
  jobName: string;
  /** Null when the run needs no Secret. */
  secretName: string | null;
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
  const { cluster, namespace, jobName, secretName, runDirectory } = leftovers;
  if (leftovers.retain) {
    await log.info(`retainJobs: keeping Job ${namespace}/${jobName} and ${runDirectory.dir} after the error`);
    return;
  }
  await deleteJob(cluster, namespace, jobName).catch((error: unknown) =>
    log.info(`Could not delete Job ${namespace}/${jobName}: ${describeApiError(error)}; the reaper will retry.`),
  );
  if (secretName !== null) await deleteSecret(cluster, namespace, secretName);
  await removeRunDirectory(runDirectory).catch((error: unknown) => log.info(`Could not remove ${runDirectory.dir}: ${String(error)}`));
}
