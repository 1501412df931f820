import type { AdapterExecutionContext, AdapterExecutionResult } from "@paperclipai/adapter-utils";
import type { AgentDefinition } from "./agent.ts";
import { acknowledgeCancellation, installShutdownHook, serverIsShuttingDown, stopCancelledJob, watchCancellation } from "./cancellation.ts";
import { cleanUpRun, JOB_GONE_POD_STOP_WAIT_MS, POD_STOP_WAIT_EXTRA_MS, runFailed } from "./cleanup.ts";
import { configuredClusterAccess, type ClusterAccess } from "./cluster-access.ts";
import { readJobOrNull } from "./agent-lock.ts";
import { agentHasExited, awaitCompletion, endedByKubernetes, failureOf, jobFate, type JobFate, OutputActivity, podOutcome } from "./completion.ts";
import { parseRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { unknownConfigKeys, unknownKeysWarning } from "./config-keys.ts";
import { configErrorCode, ConfigValueError } from "./config-values.ts";
import { kubeconfigPolicy } from "./kubeconfig-policy.ts";
import { failedRunResult, internalErrorResult } from "./errors.ts";
import { fileCallsFor } from "./file-calls.ts";
import { JobTracker } from "./job-tracker.ts";
import { UnsafeIdError } from "./names.ts";
import { WorkspaceRefusedError } from "./pod-volumes.ts";
import { UnsafeFileError } from "./safe-file.ts";
import { startKeepalive } from "./keepalive.ts";
import { followedJobs } from "./launch-guard.ts";
import { awaitPodStart, listWarningEvents } from "./pod-startup.ts";
import { ensureReaper } from "./reaper.ts";
import { describeApiError } from "./retry-policy.ts";
import { runLogFor, type RunLog } from "./run-log.ts";
import { RunOutput } from "./run-output.ts";
import { invocationMeta, planRun, type RunPlan } from "./run-plan.ts";
import { buildRunResult } from "./run-result.ts";
import { runSecretValues } from "./redaction.ts";
import { RunCallbacks } from "./run-callbacks.ts";
import { runsRootFor } from "./run-directory.ts";
import { removeRunLeftovers, type RunLeftovers } from "./run-leftovers.ts";
import { resolvePlacement } from "./self-pod.ts";
import { withUsableSession } from "./session-id.ts";
import { acquireSharedWatch, type SharedWatchLease, type WatchStatus } from "./shared-watch.ts";
import { launchRun } from "./run-launch.ts";

/** How long the guard waits for the shared watch's first list before failing closed. */
const GUARD_READY_TIMEOUT_MS = 30_000;

/**
 * One agent run as a Kubernetes Job: DESIGN §3's lifecycle, step by step. Every failure ends as a
 * result with an error code from the catalogue; nothing throws past this function: Paperclip's callbacks
 * are guarded, and an unexpected error ends as `k8s_internal_error` after removing what the run created.
 * The result, like everything sent to the run log, is redacted.
 */
export async function executeRun<TParsed>(
  agent: AgentDefinition<TParsed>,
  paperclipCtx: AdapterExecutionContext,
): Promise<AdapterExecutionResult> {
  const callbacks = new RunCallbacks(paperclipCtx);
  const created: CreatedSoFar = {};
  let result: AdapterExecutionResult;
  try {
    result = await runSteps(agent, callbacks, created);
  } catch (error) {
    result = internalErrorResult(error);
    if (created.leftovers) await removeRunLeftovers(created.leftovers, runLogFor(callbacks.ctx));
  }
  return callbacks.finish(result);
}

/** What the run may have created so far, for the removal after an unexpected error. */
interface CreatedSoFar {
  leftovers?: RunLeftovers;
}

async function runSteps<TParsed>(
  agent: AgentDefinition<TParsed>,
  callbacks: RunCallbacks,
  created: CreatedSoFar,
): Promise<AdapterExecutionResult> {
  const { ctx } = callbacks;
  const log = runLogFor(ctx);

  // 1. Config
  const parsed = parseRuntimeConfig(ctx.config);
  if (!parsed.ok) return failedRunResult(parsed.errorCode, parsed.message, { key: parsed.key });
  const config = parsed.config;
  const unknownKeys = unknownKeysWarning(unknownConfigKeys(ctx.config, agent.configFields));
  if (unknownKeys !== null) await log.info(unknownKeys);

  // 11. Cancellation opt-in, before any provider work
  await ctx.onCancellationReady?.();
  if (ctx.signal?.aborted) return acknowledgeCancellation("Stopped before the Job was created", false);
  installShutdownHook();

  // 2. Cluster access
  let cluster: ClusterAccess;
  try {
    const scope = { instanceRoot: config.instanceRoot, companyId: ctx.agent.companyId, agentId: ctx.agent.id, env: process.env };
    cluster = await configuredClusterAccess(config.kubeconfig, kubeconfigPolicy(scope));
  } catch (error) {
    if (error instanceof ConfigValueError) return failedRunResult(configErrorCode(error), error.message, { key: error.key });
    return failedRunResult("k8s_config_invalid", `kubeconfig: ${error instanceof Error ? error.message : String(error)}`, { key: "kubeconfig" });
  }

  // 4. Self-pod discovery
  const placed = await resolvePlacement(cluster, config);
  if ("errorCode" in placed) return placed;
  const { placement, sharedVolume, image } = placed;
  for (const note of placed.notes) await log.info(note);

  // 5–6. The run as data: directory, prompt, command, env split by sensitivity, Job and Secret manifests
  let plan: RunPlan;
  try {
    const planned = await planRun(agent, ctx, config, placement, sharedVolume, image);
    plan = planned;
    callbacks.redactSecrets(runSecretValues(plan.secret, plan.job));
    for (const note of planned.notes) await log.info(note);
  } catch (error) {
    if (error instanceof UnsafeIdError) return failedRunResult("k8s_agent_id_invalid", error.message);
    if (error instanceof WorkspaceRefusedError) return failedRunResult("k8s_workspace_refused", error.message, { cwd: error.cwd });
    if (error instanceof ConfigValueError) return failedRunResult(configErrorCode(error), error.message, { key: error.key });
    return failedRunResult("k8s_config_invalid", error instanceof Error ? error.message : String(error));
  }
  await ctx.onMeta?.(invocationMeta(agent.type, plan, ctx.context));

  // 3. Shared watch
  const jobs = acquireSharedWatch(cluster, plan.namespace, "jobs");
  const pods = acquireSharedWatch(cluster, plan.namespace, "pods");
  ensureReaper(cluster, plan.namespace, config.instanceRoot);
  created.leftovers = {
    cluster,
    namespace: plan.namespace,
    jobName: plan.jobName,
    secret: null,
    runDirectory: plan.runDirectory,
    retain: config.retainJobs,
  };
  try {
    const result = await runJob(agent, callbacks, config, cluster, plan, jobs, pods, log, created);
    const notes: string[] = [];
    const usable = withUsableSession(result, plan.droppedSession, (note) => notes.push(note));
    for (const note of notes) await log.info(note);
    return usable;
  } finally {
    jobs.release();
    pods.release();
  }
}

async function runJob<TParsed>(
  agent: AgentDefinition<TParsed>,
  callbacks: RunCallbacks,
  config: RuntimeConfig,
  cluster: ClusterAccess,
  plan: RunPlan,
  jobs: SharedWatchLease<"jobs">,
  pods: SharedWatchLease<"pods">,
  log: RunLog,
  created: CreatedSoFar,
): Promise<AdapterExecutionResult> {
  const { ctx } = callbacks;
  const fileCalls = await fileCallsFor(runsRootFor(config.instanceRoot));
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
    fileCalls,
    log,
  });
  if (launched.kind === "blocked") return launched.result;
  const { runDirectory } = launched;
  const jobName = launched.job.metadata?.name ?? plan.jobName;
  // A reattached run follows another run's Job and directory.
  if (created.leftovers) created.leftovers = { ...created.leftovers, jobName, runDirectory, secret: launched.secret };
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
  const outputActivity = new OutputActivity();
  const output = new RunOutput({
    runDirectory,
    onLog: callbacks.logRedacted,
    parser,
    onActivity: () => {
      keepalive.activity();
      outputActivity.mark();
    },
    redactor: callbacks.redactor,
    fileCalls,
  });
  // 13. Cleanup, whichever way the run ends
  const cleanUp = (failed: boolean, podStopWaitMs = config.graceSec * 1000 + POD_STOP_WAIT_EXTRA_MS) =>
    cleanUpRun({
      cluster,
      namespace: plan.namespace,
      jobName,
      secret: launched.secret,
      runDirectory,
      fileCalls,
      retain: config.retainJobs,
      retainFilesOnFailureSec: config.retainRunFilesOnFailureSec,
      failed,
      tracker,
      podStopWaitMs,
      log,
    });
  const logWatchStatus = (kind: string) => (status: WatchStatus) =>
    void log.info(
      status.state === "up"
        ? `Kubernetes ${kind} watch restored.`
        : `Kubernetes ${kind} watch ${status.state}${status.lastError ? ` (${status.lastError})` : ""}; polling every few seconds until it is back.`,
    );
  const unwatchJobStatus = jobs.onStatus(logWatchStatus("Job"));
  const unwatchPodStatus = pods.onStatus(logWatchStatus("Pod"));
  try {
    // 8. Start and diagnosis
    const started = await awaitPodStart({
      tracker,
      containerName: agent.containerName,
      jobName,
      jobCreatedAt,
      limits: {
        scheduleTimeoutMs: config.scheduleTimeoutSec * 1000,
        startupTimeoutMs: config.startupTimeoutSec * 1000,
        imagePullGraceMs: config.imagePullGraceSec * 1000,
      },
      log,
      ...(ctx.onRuntimeProgress ? { onRuntimeProgress: ctx.onRuntimeProgress } : {}),
      cancel: stopCancellation.signal,
      agentExited: () => agentHasExited(runDirectory.exitCode, fileCalls),
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
          : await awaitCompletion(tracker, runDirectory.exitCode, stopCancellation.signal, outputActivity, output.directoryWatch, fileCalls);

    // 11. Cancellation
    if (completion.kind === "cancelled") {
      await output.stop();
      const cancelled = await stopCancelledJob(cluster, tracker, plan.namespace);
      if (!serverIsShuttingDown()) await cleanUp(false);
      return cancelled;
    }

    const unreadable = await output.drain(completion.kind === "exited").then(
      () => null,
      (error: unknown) => {
        if (error instanceof UnsafeFileError) return error;
        throw error;
      },
    );
    if (unreadable) {
      await cleanUp(true);
      return failedRunResult("k8s_agent_output_refused", `The agent tampered with its output: ${unreadable.message}. The output up to then was streamed.`, { jobName });
    }
    const outcome = await podOutcome(tracker, agent.containerName, completion, runDirectory.exitCode, fileCalls, {
      stderrTail: output.stderrTail.toString(),
      stdoutLines: output.stdoutLines,
    });

    // 12. Result
    const fate: JobFate =
      completion.kind === "job-gone"
        ? { kind: "deleted" }
        : endedByKubernetes(outcome, tracker.pod())
          ? await jobFate(
              tracker,
              () => readJobOrNull(cluster, plan.namespace, jobName),
              (error) => log.info(`Could not read Job ${plan.namespace}/${jobName} to learn what ended its pod: ${describeApiError(error)}`),
            )
          : { kind: "present", job: tracker.job() };
    if (fate.kind === "deleted") {
      // Whoever deleted the Job decides about its pod (it may be orphaned and keep running): no long wait for it.
      await cleanUp(true, JOB_GONE_POD_STOP_WAIT_MS);
      return failedRunResult(
        "k8s_job_deleted_externally",
        `Job ${plan.namespace}/${jobName} was deleted by someone else while the run was active; ${outcome.description}. The agent printed ${output.stdoutLines} lines.`,
        { jobName, lastJobStatus: tracker.job()?.status ?? null, lastPodStatus: tracker.pod()?.status ?? null },
      );
    }
    const verdict = agent.interpret(parser.result(), outcome, { model: plan.model, resumeSessionId: plan.resumeSessionId });
    const result = buildRunResult(verdict, outcome, {
      deadlineExceeded: failureOf(fate.job)?.reason === "DeadlineExceeded",
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
    unwatchJobStatus();
    unwatchPodStatus();
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
