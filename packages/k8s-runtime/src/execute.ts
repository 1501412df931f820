import type { AdapterExecutionContext, AdapterExecutionResult } from "@paperclipai/adapter-utils";
import type { AgentDefinition } from "./agent.ts";
import { acknowledgeCancellation, installShutdownHook, serverIsShuttingDown, stopCancelledJob, watchCancellation } from "./cancellation.ts";
import { cleanUpRun, runFailed } from "./cleanup.ts";
import { clusterAccessFor, type ClusterAccess } from "./cluster-access.ts";
import { awaitCompletion, podOutcome } from "./completion.ts";
import { parseRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { ConfigValueError } from "./config-values.ts";
import { failedRunResult } from "./errors.ts";
import { JobTracker } from "./job-tracker.ts";
import { UnsafeIdError } from "./names.ts";
import { startKeepalive } from "./keepalive.ts";
import { followedJobs } from "./launch-guard.ts";
import { awaitPodStart, listWarningEvents } from "./pod-startup.ts";
import { ensureReaper } from "./reaper.ts";
import { describeApiError } from "./retry-policy.ts";
import { runLogFor, type RunLog } from "./run-log.ts";
import { RunOutput } from "./run-output.ts";
import { invocationMeta, planRun, type RunPlan } from "./run-plan.ts";
import { buildRunResult } from "./run-result.ts";
import { resolvePlacement } from "./self-pod.ts";
import { acquireSharedWatch, type SharedWatchLease } from "./shared-watch.ts";
import { launchRun } from "./run-launch.ts";

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
  const placed = await resolvePlacement(cluster, config);
  if ("errorCode" in placed) return placed;
  const { placement, sharedVolume, image } = placed;

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
  await ctx.onMeta?.(invocationMeta(agent.type, plan, ctx.context));

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

  // 7. Guard and orphans, then 6. create
  const launched = await launchRun({
    ctx,
    cluster,
    plan,
    jobs,
    pods,
    instanceRoot: config.instanceRoot,
    reattachOrphanedJobs: config.reattachOrphanedJobs,
    log,
  });
  if (launched.kind === "blocked") return launched.result;
  const { runDirectory } = launched;
  const jobName = launched.job.metadata?.name ?? plan.jobName;
  const jobCreatedAt = Date.now();
  const tracker = new JobTracker(jobs.watch, pods.watch, jobName);
  const stopCancellation = new AbortController();
  const cancellation = watchCancellation(
    ctx.signal,
    ctx.authToken
      ? { apiUrl: config.paperclipApiUrl ?? plan.serverApiUrl, runId: ctx.runId, token: ctx.authToken, intervalMs: config.keepaliveSec * 1000 }
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
      secret: launched.secret,
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
      warningEvents: (podName) => listWarningEvents(cluster, plan.namespace, podName),
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
      const cancelled = await stopCancelledJob(cluster, tracker, plan.namespace);
      if (!serverIsShuttingDown()) await cleanUp(false);
      return cancelled;
    }

    await output.drain();
    const outcome = await podOutcome(tracker, agent.containerName, completion, runDirectory.exitCode, output.stderrTail.toString());

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
