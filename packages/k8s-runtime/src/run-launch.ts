import type { V1Job } from "@kubernetes/client-node";
import type { AdapterExecutionContext } from "@paperclipai/adapter-utils";
import type { ClusterAccess } from "./cluster-access.ts";
import { failedRunResult, type FailedRunResult } from "./errors.ts";
import type { FileCalls } from "./file-calls.ts";
import { acquireAgentLock, releaseAgentLock, type RunSecretRef } from "./agent-lock.ts";
import { JobTracker } from "./job-tracker.ts";
import { createRunJob, logRetries } from "./launch.ts";
import { agentLaunchLock, followedJobs, guardAgentRuns, jobKey } from "./launch-guard.ts";
import { reattachJob, runDirectoryOfJob } from "./reattach.ts";
import { prepareRunDirectory, removeRunDirectory, type RunDirectory } from "./run-directory.ts";
import type { RunLog } from "./run-log.ts";
import type { RunPlan } from "./run-plan.ts";
import type { SharedWatchLease } from "./shared-watch.ts";

/** The Job this run follows, where its output is, and its run Secret (deleted at cleanup); or why the run did not start. */
export type LaunchOutcome =
  | { kind: "created" | "reattached"; job: V1Job; runDirectory: RunDirectory; secret: RunSecretRef }
  | { kind: "blocked"; result: FailedRunResult };

function blocked(result: FailedRunResult): LaunchOutcome {
  return { kind: "blocked", result };
}

/**
 * Steps 7 and 6, serialized per agent within the process: the guard looks at the agent's live Jobs,
 * then either takes one over (reattach), refuses to start (blocked), or creates the run Secret (the
 * agent's lock across processes, which may still block), prepares the run directory and creates the Job.
 * The Job is in `followedJobs` from here until the run ends.
 */
export function launchRun(input: {
  ctx: AdapterExecutionContext;
  cluster: ClusterAccess;
  plan: RunPlan;
  jobs: SharedWatchLease<"jobs">;
  pods: SharedWatchLease<"pods">;
  instanceRoot: string;
  reattachOrphanedJobs: boolean;
  /** The file calls of the run directories' filesystem. */
  fileCalls: FileCalls;
  log: RunLog;
}): Promise<LaunchOutcome> {
  const { ctx, cluster, plan, log } = input;
  return agentLaunchLock.run(plan.agentId, async () => {
    const decision = guardAgentRuns(
      input.jobs.watch,
      plan.agentId,
      { runId: plan.runId, taskId: plan.taskId, sessionId: plan.resumeSessionId },
      input.reattachOrphanedJobs,
    );
    if (decision.kind === "blocked") return blocked(failedRunResult(decision.code, decision.message));
    if (decision.kind === "reattach") {
      const runDirectory = runDirectoryOfJob(decision.job, { instanceRoot: input.instanceRoot, companyId: plan.companyId, agentId: plan.agentId });
      if (!runDirectory) {
        const name = `${decision.job.metadata?.namespace}/${decision.job.metadata?.name}`;
        return blocked(failedRunResult("k8s_pod_reattach_failed", `Job ${name} has no usable run directory annotation; it cannot be followed. Delete it to start over.`));
      }
      const reattached = await reattachJob(cluster, decision.job, plan.runId, log);
      if (!reattached.ok) return blocked(reattached.result);
      followedJobs.add(jobKey(decision.job));
      const holderJob = decision.job.metadata?.name ?? "";
      return { kind: "reattached", job: decision.job, runDirectory, secret: { namespace: plan.namespace, name: plan.secret.metadata?.name ?? "", holderJob } };
    }

    const lock = await acquireAgentLock({ cluster, secret: plan.secret, log, onRetry: logRetries(log) });
    if (lock.kind === "held") return blocked(failedRunResult("k8s_concurrent_run_blocked", lock.message));
    if (lock.kind === "failed") return blocked(failedRunResult(lock.code, lock.message));
    const release = () => releaseAgentLock(cluster, lock.ref).catch(() => {});

    try {
      const prepared = await prepareRunDirectory(plan.runDirectory, {
        prompt: plan.prompt.text,
        ...(plan.instructions !== null ? { instructions: plan.instructions } : {}),
        ...(plan.command.runFiles ? { runFiles: plan.command.runFiles } : {}),
        skills: plan.skills,
        skillsSubdir: plan.skillsPlacement.subdir,
        ownerUid: plan.runAsUser,
        ownerGid: plan.runAsGroup,
        ...(plan.sharedCwd !== null ? { workspace: plan.sharedCwd } : {}),
        ...(plan.skills.length > 0 && plan.skillsPlacement.mountPath !== null ? { homeMountPoint: plan.skillsPlacement.mountPath } : {}),
      }, input.fileCalls);
      for (const note of prepared.notes) await log.info(note);
    } catch (error) {
      const message = `Could not prepare the run directory ${plan.runDirectory.dir}: ${error instanceof Error ? error.message : String(error)}`;
      await release();
      return blocked(failedRunResult("k8s_run_directory_failed", message));
    }
    const tracker = new JobTracker(input.jobs.watch, input.pods.watch, plan.jobName);
    const created = await createRunJob({ cluster, job: plan.job, secret: { object: lock.secret, ref: lock.ref }, tracker, log, onDispatch: () => ctx.onDispatch?.() })
      .catch(async (error: unknown) => {
        await release();
        return { ok: false as const, result: failedRunResult("k8s_job_create_failed", error instanceof Error ? error.message : String(error)) };
      })
      .finally(() => tracker.close());
    if (!created.ok) {
      // No Job will ever use the directory, and a retry of this run (same id) must not find it in its way.
      await removeRunDirectory(plan.runDirectory, input.fileCalls).catch(() => {});
      return blocked(created.result);
    }
    followedJobs.add(jobKey(created.job));
    return { kind: "created", job: created.job, runDirectory: plan.runDirectory, secret: lock.ref };
  });
}
