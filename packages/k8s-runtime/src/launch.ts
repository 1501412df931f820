import { PatchStrategy, setHeaderOptions, type V1Job, type V1Secret } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import { failedRunResult, type FailedRunResult } from "./errors.ts";
import type { JobTracker } from "./job-tracker.ts";
import { describeApiError, withRetry } from "./retry-policy.ts";
import { ownerReferencePatch } from "./run-secret.ts";
import type { RunLog } from "./run-log.ts";

/** How long a created Job may take to show up in the shared watch's cache before the guard lock is released anyway. */
const CACHE_CATCH_UP_MS = 10_000;

/**
 * Step 6, creation: the per-run Secret first (so the pod never waits for it), then the Job, then
 * the Secret's ownerReference to the Job so Kubernetes deletes it with the Job. Each create has one
 * retry policy; a 409 on a retry of our own deterministic name means an earlier attempt landed.
 */
export async function createRunJob(input: {
  cluster: ClusterAccess;
  job: V1Job;
  secret: V1Secret | null;
  tracker: JobTracker;
  log: RunLog;
  onDispatch?: () => void;
}): Promise<{ ok: true; job: V1Job } | { ok: false; result: FailedRunResult }> {
  const { cluster, job, secret, log } = input;
  const namespace = job.metadata?.namespace ?? "default";
  const jobName = job.metadata?.name ?? "";
  const onRetry = ({ attempt, error }: { attempt: number; error: unknown }) =>
    void log.info(`Kubernetes API call failed (attempt ${attempt}), retrying: ${describeApiError(error)}`);
  if (secret) {
    const secretName = secret.metadata?.name ?? "";
    try {
      await withRetry(() => cluster.core.createNamespacedSecret({ namespace, body: secret }), {
        description: `create Secret ${namespace}/${secretName}`,
        createdName: { name: secretName, readExisting: () => cluster.core.readNamespacedSecret({ namespace, name: secretName }) },
        onRetry,
      });
    } catch (error) {
      return { ok: false, result: failedRunResult("k8s_secret_create_failed", `Could not create the run's Secret: ${describeApiError(error)}`) };
    }
  }
  input.onDispatch?.();
  let created: V1Job;
  try {
    created = await withRetry(() => cluster.batch.createNamespacedJob({ namespace, body: job }), {
      description: `create Job ${namespace}/${jobName}`,
      createdName: { name: jobName, readExisting: () => cluster.batch.readNamespacedJob({ namespace, name: jobName }) },
      onRetry,
    });
  } catch (error) {
    if (secret) await deleteSecret(cluster, namespace, secret.metadata?.name ?? "");
    return { ok: false, result: failedRunResult("k8s_job_create_failed", `Could not create the Job: ${describeApiError(error)}`) };
  }
  if (secret) {
    const secretName = secret.metadata?.name ?? "";
    try {
      await withRetry(
        () =>
          cluster.core.patchNamespacedSecret(
            { namespace, name: secretName, body: ownerReferencePatch(created) },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          ),
        { description: `set the owner of Secret ${namespace}/${secretName}`, onRetry },
      );
    } catch (error) {
      // The run goes on; cleanup deletes the Secret explicitly, so nothing leaks.
      await log.info(`Secret ${secretName} could not be given to its Job (${describeApiError(error)}); it is deleted at cleanup.`);
    }
  }
  await log.info(`Created Job ${namespace}/${jobName}`);
  const deadline = Date.now() + CACHE_CATCH_UP_MS;
  while (!input.tracker.job() && Date.now() < deadline) await input.tracker.nextChange(deadline - Date.now());
  return { ok: true, job: created };
}

export async function deleteSecret(cluster: ClusterAccess, namespace: string, name: string): Promise<void> {
  try {
    await withRetry(() => cluster.core.deleteNamespacedSecret({ namespace, name }), { description: `delete Secret ${namespace}/${name}` });
  } catch {
    // Already gone (404) or unreachable: the Job's ownerReference or the reaper takes care of it.
  }
}
