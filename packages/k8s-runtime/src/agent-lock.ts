/**
 * One Job per agent across Paperclip processes (DESIGN §3.7). The in-process mutex and the shared watch's cache
 * only see this process; the run Secret's per-agent name (`runSecretNameFor`) is what every process shares: its
 * create is the agent's lock, and a 409 AlreadyExists means another run holds it. Its annotations name the holder
 * (run id, Job name); whether that holder is still alive decides between blocking and taking over a stale lock.
 */
import type { V1Job, V1Secret } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import { ANNOTATION_RUN_ID } from "./labels.ts";
import { jobIsFinished } from "./launch-guard.ts";
import { apiStatusOf, describeApiError, httpStatusOf, withRetry, type RetryOptions } from "./retry-policy.ts";
import { type CreatedObject, createdObjectOf } from "./run-object-api.ts";
import { holderJobOf, holderJobUidOf } from "./run-secret.ts";
import type { RunLog } from "./run-log.ts";

/**
 * How long a run Secret may exist without a live Job before it counts as left behind: covers a Job create that
 * is still retrying in another process (its retry budget is far shorter), then frees a crashed process's lock.
 */
export const UNOWNED_RUN_SECRET_GRACE_MS = 2 * 60_000;

/** How cleanup finds the run Secret: by uid when this run created it, else by the Job holding it (a reattached run). */
export type RunSecretRef = { namespace: string; name: string } & ({ uid: string } | { holderJob: string });

export type RunSecretVerdict = { stale: false; why: string } | { stale: true; why: string };

/**
 * Whether a run Secret still belongs to a live run. `holderJob` is the Job its annotation (or owner) names, as
 * read now, or null when there is none. Pure: the lock reads the Job from the API, the reaper from the watch.
 */
export function judgeRunSecret(secret: V1Secret, holderJob: V1Job | null, now: number, graceMs: number): RunSecretVerdict {
  const holderUid = holderJobUidOf(secret);
  const job = holderJob && (holderUid === null || holderUid === holderJob.metadata?.uid) ? holderJob : null;
  const jobName = holderJobOf(secret) ?? "unknown";
  if (job) {
    if (jobIsFinished(job) || job.metadata?.deletionTimestamp) return { stale: true, why: `its Job ${jobName} has finished` };
    return { stale: false, why: `its Job ${jobName} is running` };
  }
  if (holderUid) return { stale: true, why: `its Job ${jobName} is gone` };
  const created = secret.metadata?.creationTimestamp ? new Date(secret.metadata.creationTimestamp).getTime() : Number.NaN;
  if (!Number.isFinite(created) || now - created >= graceMs) {
    return { stale: true, why: `its Job ${jobName} was never created or never took it over, for longer than ${Math.round(graceMs / 1000)}s` };
  }
  return { stale: false, why: `its Job ${jobName} is being created` };
}

export type LockOutcome =
  | { kind: "acquired"; secret: CreatedObject; ref: RunSecretRef & { uid: string } }
  | { kind: "held"; message: string }
  | { kind: "failed"; code: "k8s_secret_create_failed" | "k8s_concurrency_guard_unreachable"; message: string };

function isAlreadyExists(error: unknown): boolean {
  return httpStatusOf(error) === 409 && apiStatusOf(error)?.reason === "AlreadyExists";
}

function sameContent(existing: V1Secret, wanted: V1Secret): boolean {
  const annotations = (secret: V1Secret) => JSON.stringify(secret.metadata?.annotations ?? {});
  const data = (secret: V1Secret) => JSON.stringify(Object.entries(secret.data ?? {}).sort(([a], [b]) => a.localeCompare(b)));
  return annotations(existing) === annotations(wanted) && data(existing) === data(wanted);
}

function acquired(secret: CreatedObject, namespace: string, name: string): LockOutcome {
  return { kind: "acquired", secret, ref: { namespace, name, uid: secret.metadata.uid } };
}

/** The Job named `name`, or null when there is none. */
export async function readJobOrNull(cluster: ClusterAccess, namespace: string, name: string): Promise<V1Job | null> {
  try {
    return await withRetry(() => cluster.batch.readNamespacedJob({ namespace, name }), { description: `read Job ${namespace}/${name}` });
  } catch (error) {
    if (httpStatusOf(error) === 404) return null;
    throw error;
  }
}

/**
 * Creates the run Secret as the agent's lock. On 409: our own earlier attempt (same content) is ours; a holder
 * whose Job is live blocks the run; a stale one (Job gone or finished, or never given to a Job within the grace
 * period) is deleted with a precondition on its uid, and the create is tried once more.
 */
export async function acquireAgentLock(input: {
  cluster: ClusterAccess;
  secret: V1Secret;
  log: RunLog;
  onRetry?: RetryOptions<unknown>["onRetry"];
  graceMs?: number;
}): Promise<LockOutcome> {
  const { cluster, secret, log } = input;
  const namespace = secret.metadata?.namespace ?? "default";
  const name = secret.metadata?.name ?? "";
  const retry = { ...(input.onRetry ? { onRetry: input.onRetry } : {}) };
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const created = await withRetry(() => cluster.runObjects.createSecret(namespace, secret), {
        description: `create Secret ${namespace}/${name}`,
        ...retry,
      });
      return acquired(created, namespace, name);
    } catch (error) {
      if (!isAlreadyExists(error)) {
        return { kind: "failed", code: "k8s_secret_create_failed", message: `Could not create the run's Secret: ${describeApiError(error)}` };
      }
    }
    let existing: V1Secret;
    let verdict: RunSecretVerdict;
    try {
      existing = await withRetry(() => cluster.core.readNamespacedSecret({ namespace, name }), { description: `read Secret ${namespace}/${name}`, ...retry });
      // A create whose response was lost landed: the Secret is this run's own.
      if (sameContent(existing, secret)) return acquired(createdObjectOf(existing, `read Secret ${namespace}/${name}`), namespace, name);
      const holderJob = holderJobOf(existing);
      verdict = judgeRunSecret(existing, holderJob ? await readJobOrNull(cluster, namespace, holderJob) : null, Date.now(), input.graceMs ?? UNOWNED_RUN_SECRET_GRACE_MS);
    } catch (error) {
      if (httpStatusOf(error) === 404) continue; // released meanwhile: try again
      return {
        kind: "failed",
        code: "k8s_concurrency_guard_unreachable",
        message: `The agent's run Secret ${namespace}/${name} exists, and it could not be read whether its run is still active: ${describeApiError(error)}`,
      };
    }
    const holderRun = existing.metadata?.annotations?.[ANNOTATION_RUN_ID] ?? "unknown";
    if (!verdict.stale || attempt === 2) {
      return {
        kind: "held",
        message:
          `Another Paperclip process is starting or running a run of this agent (run ${holderRun}; ${verdict.why}; ` +
          `it holds the agent's run Secret ${namespace}/${name}); an agent runs one Job at a time. This run did not start.`,
      };
    }
    await log.info(`The agent's run Secret ${namespace}/${name} of run ${holderRun} was left behind (${verdict.why}); deleting it.`);
    try {
      await deleteRunSecret(cluster, namespace, name, existing.metadata?.uid ?? "");
    } catch (error) {
      return { kind: "failed", code: "k8s_secret_create_failed", message: `Could not delete the left-behind Secret ${namespace}/${name}: ${describeApiError(error)}` };
    }
  }
  return { kind: "failed", code: "k8s_secret_create_failed", message: `Could not create the run's Secret ${namespace}/${name}: it kept reappearing` };
}

/**
 * Deletes a run Secret only if it is still the one with `uid` (a newer run's Secret of the same name stays).
 * Already gone, or replaced, counts as done.
 */
export async function deleteRunSecret(cluster: ClusterAccess, namespace: string, name: string, uid: string): Promise<void> {
  try {
    await withRetry(() => cluster.runObjects.deleteSecret(namespace, name, uid), {
      description: `delete Secret ${namespace}/${name}`,
    });
  } catch (error) {
    const status = httpStatusOf(error);
    if (status !== 404 && status !== 409) throw error;
  }
}

/** Step 13: deletes the run's Secret (the agent's lock), if it is still this run's. Throws when the API refuses. */
export async function releaseAgentLock(cluster: ClusterAccess, ref: RunSecretRef): Promise<void> {
  if ("uid" in ref) return deleteRunSecret(cluster, ref.namespace, ref.name, ref.uid);
  let secret: V1Secret;
  try {
    secret = await withRetry(() => cluster.core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name }), {
      description: `read Secret ${ref.namespace}/${ref.name}`,
    });
  } catch (error) {
    if (httpStatusOf(error) === 404) return;
    throw error;
  }
  const uid = secret.metadata?.uid;
  if (uid && holderJobOf(secret) === ref.holderJob) await deleteRunSecret(cluster, ref.namespace, ref.name, uid);
}
