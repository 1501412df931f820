import { describe, expect, it } from "vitest";
import { classifyOrphan, type OrphanJob, type RunIdentity } from "./orphans.ts";

const orphanJob = (ids: Partial<OrphanJob>): OrphanJob => ({
  jobName: "agent-claude-1111aaaa",
  namespace: "paperclip",
  runId: "run-old",
  taskId: "task-1",
  sessionId: "session-1",
  ...ids,
});
const run = (ids: Partial<RunIdentity>): RunIdentity => ({ runId: "run-new", taskId: "task-1", sessionId: "session-1", ...ids });

describe("classifyOrphan", () => {
  it.each([
    // orphan task, orphan session, current task, current session, enabled → expected
    ["task-1", "session-1", "task-1", "session-1", true, "reattach"],
    ["task-1", null, "task-1", "session-1", true, "reattach"],
    ["task-1", "session-1", "task-1", null, true, "reattach"],
    ["task-1", null, "task-1", null, true, "reattach"],
    ["task-1", "", "task-1", "session-1", true, "reattach"],
    ["task-1", "session-1", "task-2", "session-1", true, "k8s_concurrent_run_blocked"],
    ["task-1", "session-1", "task-2", null, true, "k8s_concurrent_run_blocked"],
    [null, "session-1", "task-1", "session-1", true, "k8s_orphan_task_unknown"],
    ["task-1", "session-1", null, "session-1", true, "k8s_orphan_task_unknown"],
    [null, null, null, null, true, "k8s_orphan_task_unknown"],
    ["  ", "session-1", "task-1", "session-1", true, "k8s_orphan_task_unknown"],
    ["task-1", "session-1", "task-1", "session-2", true, "k8s_orphan_session_mismatch"],
    ["task-1", "session-1", "task-1", "session-1", false, "k8s_concurrent_run_blocked"],
    [null, null, null, null, false, "k8s_concurrent_run_blocked"],
  ] as const)(
    "orphan task %j session %j, run task %j session %j, reattach %j → %s",
    (orphanTask, orphanSession, currentTask, currentSession, reattachEnabled, expected) => {
      const decision = classifyOrphan({
        orphan: orphanJob({ taskId: orphanTask, sessionId: orphanSession }),
        current: run({ taskId: currentTask, sessionId: currentSession }),
        reattachEnabled,
      });
      expect(decision.action === "reattach" ? "reattach" : decision.code).toBe(expected);
    },
  );

  it("names the Job and tells the operator what to do", () => {
    const decision = classifyOrphan({ orphan: orphanJob({}), current: run({ taskId: "task-2" }), reattachEnabled: true });
    expect(decision).toEqual({
      action: "block",
      code: "k8s_concurrent_run_blocked",
      message:
        "Job paperclip/agent-claude-1111aaaa (run run-old) of this agent is still running task task-1, and this run is for task task-2; " +
        "an agent runs one Job at a time. This run did not start. Wait for that Job to finish, or delete it to stop it: " +
        "kubectl delete job agent-claude-1111aaaa -n paperclip",
    });
  });

  it("says which task id is unknown and which session differs", () => {
    const unknown = classifyOrphan({ orphan: orphanJob({ taskId: null }), current: run({}), reattachEnabled: true });
    expect(unknown.action === "block" && unknown.message).toContain("(its task: unknown, this run's task: task-1)");
    const mismatch = classifyOrphan({ orphan: orphanJob({}), current: run({ sessionId: "session-9" }), reattachEnabled: true });
    expect(mismatch.action === "block" && mismatch.message).toContain(
      "task task-1 in session session-1, and this run resumes session session-9",
    );
    const disabled = classifyOrphan({ orphan: orphanJob({ runId: null }), current: run({}), reattachEnabled: false });
    expect(disabled.action === "block" && disabled.message).toContain("(run unknown)");
    expect(disabled.action === "block" && disabled.message).toContain("reattachOrphanedJobs is false");
  });
});
