import type { V1Job } from "@kubernetes/client-node";
import type { ErrorCode } from "./errors.ts";
import { KeyedMutex } from "./keyed-mutex.ts";
import { LABEL_AGENT_ID, readRunAnnotations, sanitizeLabelValue } from "./labels.ts";
import { classifyOrphan, type RunIdentity } from "./orphans.ts";
import type { SharedWatch } from "./shared-watch.ts";

/** Step 7: what the guard found among the agent's live Jobs. */
export type GuardDecision =
  | { kind: "clear" }
  | { kind: "reattach"; job: V1Job }
  | { kind: "blocked"; code: ErrorCode; message: string };

/** Guard-then-create is serialized per agent within the process, so two runs can't both see "clear". */
export const agentLaunchLock = new KeyedMutex();

/** Jobs an `execute()` in this process is following right now: never orphans, whatever their labels say. */
export const followedJobs = new Set<string>();

export function jobIsFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (condition) => (condition.type === "Complete" || condition.type === "Failed") && condition.status === "True",
  );
}

/**
 * Looks at the agent's unfinished Jobs in the shared watch's cache. The run's own Job (same run id:
 * Paperclip retried `execute()`) is taken over; another run's Job is an orphan, classified by
 * task and session (DESIGN §3.7). Any blocking orphan blocks; otherwise a matching one is reattached.
 */
export function guardAgentRuns(
  jobs: SharedWatch<"jobs">,
  agentId: string,
  current: RunIdentity & { runId: string },
  reattachEnabled: boolean,
): GuardDecision {
  const agentLabel = sanitizeLabelValue(agentId);
  const live = jobs.list((job) => {
    const annotated = readRunAnnotations(job.metadata?.annotations);
    const sameAgent = annotated.agentId !== null ? annotated.agentId === agentId : job.metadata?.labels?.[LABEL_AGENT_ID] === agentLabel;
    return sameAgent && !jobIsFinished(job) && job.metadata?.deletionTimestamp === undefined;
  });
  const own = live.find((job) => readRunAnnotations(job.metadata?.annotations).runId === current.runId);
  if (own && !followedJobs.has(jobKey(own))) return { kind: "reattach", job: own };
  const followed = live.find((job) => followedJobs.has(jobKey(job)));
  if (followed) {
    const name = followed.metadata?.name ?? "";
    return {
      kind: "blocked",
      code: "k8s_concurrent_run_blocked",
      message: `Another run of this agent is in progress on this server (Job ${followed.metadata?.namespace}/${name}); an agent runs one Job at a time. This run did not start.`,
    };
  }
  let reattach: V1Job | undefined;
  for (const job of live) {
    const annotated = readRunAnnotations(job.metadata?.annotations);
    const decision = classifyOrphan({
      orphan: { ...annotated, jobName: job.metadata?.name ?? "", namespace: job.metadata?.namespace ?? "" },
      current,
      reattachEnabled,
    });
    if (decision.action === "block") return { kind: "blocked", code: decision.code, message: decision.message };
    reattach ??= job;
  }
  return reattach ? { kind: "reattach", job: reattach } : { kind: "clear" };
}

export function jobKey(job: V1Job): string {
  return `${job.metadata?.namespace ?? ""}/${job.metadata?.name ?? ""}`;
}
