import type { AdapterExecutionContext, AdapterExecutionResult } from "@paperclipai/adapter-utils";
import type { AgentDefinition } from "./agent.ts";
import { installShutdownHook, serverIsShuttingDown, watchCancellation } from "./cancellation.ts";
import { cleanUpRun, deleteJob, runFailed } from "./cleanup.ts";
import { clusterAccessFor, type ClusterAccess } from "./cluster-access.ts";
import { awaitCompletion, awaitPublishedTermination } from "./completion.ts";
import { parseRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { ConfigValueError } from "./config-values.ts";
import { failedRunResult } from "./errors.ts";
import { JobTracker } from "./job-tracker.ts";
import { UnsafeIdError } from "./names.ts";
import { startKeepalive } from "./keepalive.ts";
import { createRunJob } from "./launch.ts";
import { agentLaunchLock, followedJobs, guardAgentRuns, jobKey } from "./launch-guard.ts";
import { awaitPodStart } from "./pod-startup.ts";
import { ensureReaper } from "./reaper.ts";
import { describeApiError } from "./retry-policy.ts";
import { prepareRunDirectory, readExitCodeFile, removeRunDirectory } from "./run-directory.ts";
import { runLogFor, type RunLog } from "./run-log.ts";
import { RunOutput } from "./run-output.ts";
import { planRun, type RunPlan } from "./run-plan.ts";
import { buildRunResult } from "./run-result.ts";
import { discoverPlacement, type Placement } from "./self-pod.ts";
import { acquireSharedWatch, type SharedWatchLease } from "./shared-watch.ts";
import { describeTermination } from "./terminated-state.ts";
import { acknowledgeCancellation, reattachJob, runDirectoryOfJob } from "./reattach.ts";

/** How long the guard waits for the shared watch's first list before failing closed. */
const GUARD_READY_TIMEOUT_MS = 30_000;

/**
 * One agent run as a Kubernetes Job: DESIGN §3's lifecycle, step by step. Every failure ends as a
 * result with an error code from the catalogue; nothing throws past this function.
 */
export async function executeRun<TParsed>(
  agent: AgentDefinition<TParsed>,
  ctx: AdapterExecutionContext,
): Promise<AdapterExecutionResult> {
  const log = runLogFor(ctx);

  // 1. Config
  const parsed = parseRuntimeConfig(ctx.config);
  if (!parsed.ok) return failedRunResult("k8s_config_invalid", parsed.message, { key: parsed.key });
  const config = parsed.config;

  // 11. Cancellation opt-in, before any provider work
  await ctx.onCancellationReady?.();
  if (ctx.signal?.aborted) return acknowledgeCancellation("Stopped before the Job was created", false);
  installShutdownHook();

  // 2. Cluster access
  let cluster: ClusterAccess;
  try {
    cluster = clusterAccessFor(config.kubeconfig);
  } catch (error) {
    return failedRunResult("k8s_config_invalid", `kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { key: "kubeconfig" });
  }

  // 4. Self-pod discovery
  let placement: Placement;
  try {
    placement = await discoverPlacement(
      cluster.key,
      { instanceRoot: config.instanceRoot, ...(config.namespace ? { namespace: config.namespace } : {}) },
      (namespace, name) => cluster.core.readNamespacedPod({ namespace, name }),
      cluster.currentNamespace,
    );
  } catch (error) {
    return failedRunResult("k8s_cluster_unreachable", `Could not read the Paperclip pod: ${describeApiError(error)}`);
  }
  const sharedVolume = config.sharedVolume ?? placement.sharedVolume;
  if (!sharedVolume) {
    return failedRunResult(
      "k8s_shared_volume_unavailable",
      `No shared volume holds the instance root ${config.instanceRoot}: mount a ReadWriteMany PersistentVolumeClaim there in the Paperclip pod, or set sharedVolumeClaim and sharedVolumeMountPath.`,
      { key: "sharedVolumeClaim" },
    );
  }
  const image = config.image ?? placement.serverImage;
  if (!image) return failedRunResult("k8s_config_invalid", "config.image is required: the agent's container image.", { key: "image" });

  // 5–6. The run as data: directory, prompt, command, env split by sensitivity, Job and Secret manifests
  let plan: RunPlan;
  try {
    const planned = await planRun(agent, ctx, config, placement, sharedVolume, image);
    for (const note of planned.notes) await log.info(note);
    plan = planned;
  } catch (error) {
    if (error instanceof UnsafeIdError) return failedRunResult("k8s_agent_id_invalid", error.message);
    const key = error instanceof ConfigValueError ? { key: error.key } : undefined;
    return failedRunResult("k8s_config_invalid", error instanceof Error ? error.message : String(error), key);
  }
  await ctx.onMeta?.({
    adapterType: agent.type,
    command: plan.command.argv[0] ?? "",
    commandArgs: plan.command.argv.slice(1),
    cwd: plan.cwd,
    commandNotes: [`Kubernetes Job ${plan.namespace}/${plan.jobName}`, ...(plan.command.notes ?? [])],
    env: plan.command.env,
    prompt: plan.prompt.text,
    promptMetrics: plan.prompt.metrics,
    context: ctx.context,
  });

  // 3. Shared watch
  const jobs = acquireSharedWatch(cluster, plan.namespace, "jobs");
  const pods = acquireSharedWatch(cluster, plan.namespace, "pods");
  ensureReaper(cluster, plan.namespace, config.instanceRoot);
  try {
    return await runJob(agent, ctx, config, cluster, plan, jobs, pods, log);
  } finally {
    jobs.release();
    pods.release();
  }
}

async function runJob<TParsed>(
  agent: AgentDefinition<TParsed>,
  ctx: AdapterExecutionContext,
  config: RuntimeConfig,
  cluster: ClusterAccess,
  plan: RunPlan,
  jobs: SharedWatchLease<"jobs">,
  pods: SharedWatchLease<"pods">,
  log: RunLog,
): Promise<AdapterExecutionResult> {
  try {
    await jobs.ready(AbortSignal.timeout(GUARD_READY_TIMEOUT_MS));
    await pods.ready(AbortSignal.timeout(GUARD_READY_TIMEOUT_MS));
  } catch (error) {
    return failedRunResult(
      "k8s_concurrency_guard_unreachable",
      `Could not read the agent's Jobs in namespace ${plan.namespace}, so it is unknown whether another run is active: ${describeApiError(error)}`,
    );
  }

  // 7. Guard and orphans, then 6. create — serialized per agent
  const launched = await agentLaunchLock.run(ctx.agent.id, async () => {
    const decision = guardAgentRuns(
      jobs.watch,
      ctx.agent.id,
      { runId: plan.runId, taskId: plan.taskId, sessionId: plan.resumeSessionId },
      config.reattachOrphanedJobs,
    );
    if (decision.kind === "blocked") return { kind: "blocked" as const, result: failedRunResult(decision.code, decision.message) };
    if (decision.kind === "reattach") {
      const reattached = await reattachJob(cluster, decision.job, plan.runId, log);
      if (!reattached.ok) return { kind: "blocked" as const, result: reattached.result };
      followedJobs.add(jobKey(decision.job));
      return { kind: "reattached" as const, job: decision.job };
    }
    try {
      const prepared = await prepareRunDirectory(plan.runDirectory, {
        prompt: plan.prompt.text,
        ...(plan.instructions !== null ? { instructions: plan.instructions } : {}),
        ...(plan.command.runFiles ? { runFiles: plan.command.runFiles } : {}),
        skills: plan.skills,
        ownerUid: plan.runAsUser,
        ownerGid: plan.runAsGroup,
      });
      for (const note of prepared.notes) await log.info(note);
    } catch (error) {
      const message = `Could not prepare the run directory ${plan.runDirectory.dir}: ${error instanceof Error ? error.message : String(error)}`;
      return { kind: "blocked" as const, result: failedRunResult("k8s_run_directory_failed", message) };
    }
    const tracker = new JobTracker(jobs.watch, pods.watch, plan.jobName);
    const created = await createRunJob({ cluster, job: plan.job, secret: plan.secret, tracker, log, onDispatch: () => ctx.onDispatch?.() })
      .catch((error: unknown) => ({ ok: false as const, result: failedRunResult("k8s_job_create_failed", error instanceof Error ? error.message : String(error)) }))
      .finally(() => tracker.close());
    if (!created.ok) {
      // No Job will ever use the directory, and a retry of this run (same id) must not find it in its way.
      await removeRunDirectory(plan.runDirectory).catch(() => {});
      return { kind: "blocked" as const, result: created.result };
    }
    followedJobs.add(jobKey(created.job));
    return { kind: "created" as const, job: created.job };
  });
  if (launched.kind === "blocked") return launched.result;

  const jobName = launched.job.metadata?.name ?? plan.jobName;
  const runDirectory =
    launched.kind === "reattached"
      ? runDirectoryOfJob(launched.job, { instanceRoot: config.instanceRoot, companyId: plan.companyId, agentId: plan.agentId })
      : plan.runDirectory;
  if (!runDirectory) {
    followedJobs.delete(jobKey(launched.job));
    return failedRunResult(
      "k8s_pod_reattach_failed",
      `Job ${plan.namespace}/${jobName} has no usable run directory annotation; it cannot be followed. Delete it to start over.`,
    );
  }
  const jobCreatedAt = Date.now();
  const tracker = new JobTracker(jobs.watch, pods.watch, jobName);
  const stopCancellation = new AbortController();
  const cancellation = watchCancellation(
    ctx.signal,
    ctx.authToken && config.paperclipApiUrl !== undefined
      ? { apiUrl: config.paperclipApiUrl, runId: ctx.runId, token: ctx.authToken, intervalMs: config.keepaliveSec * 1000 }
      : null,
  );
  void cancellation.cancelled.then(() => stopCancellation.abort());
  const parser = agent.createParser();
  const keepalive = startKeepalive(log, config.keepaliveSec * 1000, () => watchNote(tracker));
  const output = new RunOutput(runDirectory, ctx.onLog, parser, () => keepalive.activity());
  // 13. Cleanup, whichever way the run ends
  const cleanUp = (failed: boolean) =>
    cleanUpRun({
      cluster,
      namespace: plan.namespace,
      jobName,
      runDirectory,
      retain: config.retainJobs,
      retainFilesOnFailureSec: config.retainRunFilesOnFailureSec,
      failed,
      log,
    });
  const unwatchStatus = jobs.onStatus((status) => {
    void log.info(
      status.state === "up"
        ? "Kubernetes watch restored."
        : `Kubernetes watch ${status.state}${status.lastError ? ` (${status.lastError})` : ""}; polling every few seconds until it is back.`,
    );
  });
  try {
    // 8. Start and diagnosis
    const started = await awaitPodStart({
      tracker,
      containerName: agent.containerName,
      jobCreatedAt,
      limits: {
        scheduleTimeoutMs: config.scheduleTimeoutSec * 1000,
        startupTimeoutMs: config.startupTimeoutSec * 1000,
        imagePullGraceMs: config.imagePullGraceSec * 1000,
      },
      log,
      ...(ctx.onRuntimeProgress ? { onRuntimeProgress: ctx.onRuntimeProgress } : {}),
      cancel: stopCancellation.signal,
      warningEvents: async (podName) =>
        (
          await cluster.core.listNamespacedEvent({
            namespace: plan.namespace,
            fieldSelector: `involvedObject.name=${podName},type=Warning`,
          })
        ).items,
    });
    if (started.kind === "failed") {
      await output.stop();
      await cleanUp(true);
      return failedRunResult(started.code, started.message, { reason: started.reason, permanent: started.permanent, jobName });
    }

    // 10. Completion (output streams meanwhile: step 9)
    const completion =
      started.kind === "cancelled"
        ? ({ kind: "cancelled" } as const)
        : started.kind === "job-gone"
          ? ({ kind: "job-gone" } as const)
          : await awaitCompletion(tracker, runDirectory.exitCode, stopCancellation.signal);

    // 11. Cancellation
    if (completion.kind === "cancelled") {
      await output.stop();
      if (serverIsShuttingDown()) {
        return failedRunResult("cancelled", `The Paperclip server is shutting down; Job ${plan.namespace}/${jobName} keeps running and the next run of this agent reattaches to it.`);
      }
      await deleteJob(cluster, plan.namespace, jobName);
      const confirmed = await tracker.awaitPodStopped(30_000);
      await cleanUp(false);
      return acknowledgeCancellation(`Cancelled; Job ${plan.namespace}/${jobName} deleted`, !confirmed);
    }

    await output.drain();
    const exitCodeFromFile = completion.kind === "exited" ? completion.exitCode : await readExitCodeFile(runDirectory.exitCode);
    const final =
      exitCodeFromFile === null ? await awaitPublishedTermination(tracker, agent.containerName) : { pod: tracker.pod(), statusPublished: true };
    const termination = describeTermination({
      ...(final.pod ? { pod: final.pod } : {}),
      containerName: agent.containerName,
      exitCodeFromFile,
      podGone: tracker.podGone(),
      statusPublished: final.statusPublished,
    });
    const outcome = { ...termination, stderrTail: output.stderrTail.toString() };

    // 12. Result
    if (completion.kind === "job-gone") {
      await cleanUp(true);
      return failedRunResult(
        "k8s_job_deleted_externally",
        `Job ${plan.namespace}/${jobName} was deleted by someone else while the run was active; ${outcome.description}. The agent printed ${output.stdoutLines} lines.`,
        { jobName, lastJobStatus: tracker.job()?.status ?? null, lastPodStatus: tracker.pod()?.status ?? null },
      );
    }
    const terminal = tracker.terminalCondition();
    const verdict = agent.interpret(parser.result(), outcome, { model: plan.model });
    const result = buildRunResult(verdict, outcome, {
      deadlineExceeded: terminal?.type === "Failed" && terminal.reason === "DeadlineExceeded",
      timeoutSec: config.timeoutSec,
      cwd: plan.cwd,
      workspace: plan.workspace,
      jobName,
      namespace: plan.namespace,
      reattached: launched.kind === "reattached",
    });

    await cleanUp(runFailed(result));
    return result;
  } finally {
    unwatchStatus();
    keepalive.stop();
    cancellation.stop();
    tracker.close();
    await output.stop();
    followedJobs.delete(`${plan.namespace}/${jobName}`);
  }
}

function watchNote(tracker: JobTracker): string {
  const status = tracker.watchStatus();
  return status.state === "up" ? "Job still active" : `Kubernetes watch ${status.state}`;
}
