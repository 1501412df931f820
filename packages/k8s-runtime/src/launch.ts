import type { V1Job, V1Secret } from "@kubernetes/client-node";
import { deleteRunSecret, type RunSecretRef } from "./agent-lock.ts";
import { deleteJob } from "./cleanup.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { failedRunResult, type FailedRunResult } from "./errors.ts";
import type { JobTracker } from "./job-tracker.ts";
import { describeApiError, httpStatusOf, withRetry } from "./retry-policy.ts";
import { type CreatedObject, createdObjectOf } from "./run-object-api.ts";
import { ownerJobOf, ownerReferencePatch } from "./run-secret.ts";
import type { RunLog } from "./run-log.ts";

/** How long a created Job may take to show up in the shared watch's cache before the guard lock is released anyway. */
const CACHE_CATCH_UP_MS = 10_000;

/** Tells the run log about each retried API call. */
export function logRetries(log: RunLog): (retry: { attempt: number; error: unknown }) => void {
  return ({ attempt, error }) => void log.info(`Kubernetes API call failed (attempt ${attempt}), retrying: ${describeApiError(error)}`);
}

/**
 * Step 6, creation, once the run Secret (the agent's lock, `agent-lock.ts`) is created: the Job, then the
 * Secret's ownerReference to the Job so Kubernetes deletes it with the Job. A 409 on a retry of the Job's own
 * deterministic name means an earlier attempt landed. A Job that cannot be created takes its Secret with it.
 */
export async function createRunJob(input: {
  cluster: ClusterAccess;
  job: V1Job;
  secret: { object: CreatedObject; ref: RunSecretRef & { uid: string } };
  tracker: JobTracker;
  log: RunLog;
  onDispatch?: () => void;
}): Promise<{ ok: true; job: CreatedObject } | { ok: false; result: FailedRunResult }> {
  const { cluster, job, secret, log } = input;
  const namespace = job.metadata?.namespace ?? "default";
  const jobName = job.metadata?.name ?? "";
  const onRetry = logRetries(log);
  const releaseSecret = () => deleteRunSecret(cluster, secret.ref.namespace, secret.ref.name, secret.ref.uid).catch(() => {});
  input.onDispatch?.();
  const description = `create Job ${namespace}/${jobName}`;
  let created: CreatedObject;
  try {
    created = await withRetry(() => cluster.runObjects.createJob(namespace, job), {
      description,
      createdName: { name: jobName, readExisting: async () => createdObjectOf(await cluster.batch.readNamespacedJob({ namespace, name: jobName }), description) },
      onRetry,
    });
  } catch (error) {
    await releaseSecret();
    return { ok: false, result: failedRunResult("k8s_job_create_failed", `Could not create the Job: ${describeApiError(error)}`) };
  }
  const owned = await giveSecretToJob(cluster, secret, created, onRetry);
  if (owned === "lost") {
    // Another process judged the Secret stale and replaced it: that run holds the agent now, this Job must not run.
    await deleteJob(cluster, namespace, jobName).catch(() => {});
    return {
      ok: false,
      result: failedRunResult(
        "k8s_concurrent_run_blocked",
        `Another Paperclip process took over this agent's run Secret ${secret.ref.namespace}/${secret.ref.name} while this run's Job was being created; an agent runs one Job at a time. This run did not start.`,
      ),
    };
  }
  if (owned !== "owned") {
    // The run goes on; cleanup deletes the Secret explicitly, and the reaper does if this process ends first.
    await log.info(`Secret ${secret.ref.name} could not be given to its Job (${owned}); it is deleted at cleanup, or by the reaper.`);
  }
  await log.info(`Created Job ${namespace}/${jobName}`);
  const deadline = Date.now() + CACHE_CATCH_UP_MS;
  while (!input.tracker.job() && Date.now() < deadline) await input.tracker.nextChange(deadline - Date.now());
  return { ok: true, job: created };
}

/**
 * Patches the Secret's ownerReference to the Job, on the condition that it is still the Secret this run created
 * (its resourceVersion). Returns "owned", "lost" (it was replaced), or why the patch failed.
 */
async function giveSecretToJob(
  cluster: ClusterAccess,
  secret: { object: CreatedObject; ref: RunSecretRef & { uid: string } },
  job: CreatedObject,
  onRetry: (retry: { attempt: number; error: unknown }) => void,
): Promise<"owned" | "lost" | string> {
  const { namespace, name, uid } = secret.ref;
  try {
    await withRetry(
      () => cluster.runObjects.mergePatchSecret(namespace, name, ownerReferencePatch(job, secret.object.metadata.resourceVersion)),
      { description: `set the owner of Secret ${namespace}/${name}`, onRetry },
    );
    return "owned";
  } catch (error) {
    const status = httpStatusOf(error);
    if (status !== 404 && status !== 409) return describeApiError(error);
    // Changed or gone since it was created: a retried patch that had landed, or another process's Secret now.
    let current: V1Secret | null;
    try {
      current = await withRetry(() => cluster.core.readNamespacedSecret({ namespace, name }), { description: `read Secret ${namespace}/${name}` });
    } catch (readError) {
      if (httpStatusOf(readError) !== 404) return describeApiError(error);
      current = null;
    }
    if (current?.metadata?.uid !== uid) return "lost";
    return ownerJobOf(current)?.uid === job.metadata.uid ? "owned" : describeApiError(error);
  }
}
