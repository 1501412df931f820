import path from "node:path";
import { PatchStrategy, setHeaderOptions, type V1Job } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import { failedRunResult, type FailedRunResult } from "./errors.ts";
import { ANNOTATION_RUN_DIRECTORY, reattachMetadataPatch } from "./labels.ts";
import { describeApiError, withRetry } from "./retry-policy.ts";
import { ANNOTATION_RUN_LAYOUT, runDirectoryFor, type RunDirectory, type RunIds } from "./run-directory.ts";
import type { RunLog } from "./run-log.ts";

/**
 * The run directory of a Job to reattach to. The annotation is only trusted when it is exactly the
 * directory this agent's run of that id would have, so a tampered Job cannot point us elsewhere.
 */
export function runDirectoryOfJob(job: V1Job, ids: Omit<RunIds, "runId"> & { instanceRoot: string }): RunDirectory | null {
  const annotated = job.metadata?.annotations?.[ANNOTATION_RUN_DIRECTORY];
  if (!annotated) return null;
  try {
    const layout = job.metadata?.annotations?.[ANNOTATION_RUN_LAYOUT] === "split" ? "split" : "flat";
    const expected = runDirectoryFor({ ...ids, runId: path.basename(annotated) }, layout);
    return expected.dir === path.resolve(annotated) ? expected : null;
  } catch {
    return null;
  }
}

/**
 * Step 7, reattach: hands a live Job of an earlier run to this run by relabelling its run id (the
 * Job and its pod), so operators and the guard see who follows it now.
 */
export async function reattachJob(
  cluster: ClusterAccess,
  job: V1Job,
  runId: string,
  log: RunLog,
): Promise<{ ok: true } | { ok: false; result: FailedRunResult }> {
  const namespace = job.metadata?.namespace ?? "default";
  const name = job.metadata?.name ?? "";
  try {
    await withRetry(
      () =>
        cluster.batch.patchNamespacedJob(
          { namespace, name, body: { metadata: reattachMetadataPatch(runId) } },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        ),
      { description: `relabel Job ${namespace}/${name}` },
    );
  } catch (error) {
    return {
      ok: false,
      result: failedRunResult("k8s_pod_reattach_failed", `Could not take over Job ${namespace}/${name}: ${describeApiError(error)}`),
    };
  }
  await log.info(`Reattached to Job ${namespace}/${name} of an earlier run of this agent; streaming its output from the start.`);
  return { ok: true };
}
