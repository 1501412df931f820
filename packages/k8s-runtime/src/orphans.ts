/**
 * What to do about a live Job of another run of the same agent (DESIGN §3.7). Paperclip restarts do not end
 * Jobs, so a new run often finds its predecessor's Job still working: when it is the same task in the same
 * session, the new run takes it over instead of starting a second agent on the same work. Pure.
 */
import type { ErrorCode } from "./errors.ts";

/** Ids of a run. Pass raw values (the Job's annotations, the run's context), never sanitized label values. */
export interface RunIdentity {
  runId: string | null;
  taskId: string | null;
  sessionId: string | null;
}

export interface OrphanJob extends RunIdentity {
  jobName: string;
  namespace: string;
}

export type OrphanDecision = { action: "reattach" } | { action: "block"; code: ErrorCode; message: string };

export interface OrphanFacts {
  orphan: OrphanJob;
  current: RunIdentity;
  /** Config `reattachOrphanedJobs`; when false every live orphan blocks. */
  reattachEnabled: boolean;
}

/** Empty and blank ids are as unknown as missing ones. */
function known(id: string | null): string | null {
  return id === null || id.trim() === "" ? null : id;
}

export function classifyOrphan({ orphan, current, reattachEnabled }: OrphanFacts): OrphanDecision {
  const job = `Job ${orphan.namespace}/${orphan.jobName} (run ${known(orphan.runId) ?? "unknown"})`;
  const remedy = `This run did not start. Wait for that Job to finish, or delete it to stop it: kubectl delete job ${orphan.jobName} -n ${orphan.namespace}`;
  const block = (code: ErrorCode, situation: string): OrphanDecision => ({
    action: "block",
    code,
    message: `${job} of this agent ${situation}. ${remedy}`,
  });

  if (!reattachEnabled) {
    return block("k8s_concurrent_run_blocked", "is still running and reattachOrphanedJobs is false");
  }
  const orphanTask = known(orphan.taskId);
  const currentTask = known(current.taskId);
  if (orphanTask === null || currentTask === null) {
    return block(
      "k8s_orphan_task_unknown",
      `is still running and it is unknown whether it works on this run's task (its task: ${orphanTask ?? "unknown"}, this run's task: ${currentTask ?? "unknown"})`,
    );
  }
  if (orphanTask !== currentTask) {
    return block(
      "k8s_concurrent_run_blocked",
      `is still running task ${orphanTask}, and this run is for task ${currentTask}; an agent runs one Job at a time`,
    );
  }
  const orphanSession = known(orphan.sessionId);
  const currentSession = known(current.sessionId);
  if (orphanSession !== null && currentSession !== null && orphanSession !== currentSession) {
    return block(
      "k8s_orphan_session_mismatch",
      `is still running task ${orphanTask} in session ${orphanSession}, and this run resumes session ${currentSession}`,
    );
  }
  return { action: "reattach" };
}
