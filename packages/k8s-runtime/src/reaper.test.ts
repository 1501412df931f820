import type { V1Job } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { ANNOTATION_RETAIN } from "./labels.ts";
import { followedJobs, jobKey } from "./launch-guard.ts";
import { REAP_GRACE_MS, jobsToReap } from "./reaper.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");

function job(name: string, status: V1Job["status"], annotations: Record<string, string> = {}): V1Job {
  return { metadata: { name, namespace: "agents", annotations }, status };
}

const finishedAgo = (name: string, agoMs: number, type: "Complete" | "Failed" = "Complete", annotations?: Record<string, string>) =>
  job(name, { conditions: [{ type, status: "True", lastTransitionTime: new Date(NOW - agoMs) }] }, annotations);

afterEach(() => followedJobs.clear());

describe("jobsToReap", () => {
  it("takes finished Jobs (complete or failed) past the grace period", () => {
    const jobs = [finishedAgo("old-ok", REAP_GRACE_MS + 1), finishedAgo("old-failed", REAP_GRACE_MS, "Failed"), finishedAgo("young", REAP_GRACE_MS - 1)];
    expect(jobsToReap(jobs, NOW, REAP_GRACE_MS).map((candidate) => candidate.metadata?.name)).toEqual(["old-ok", "old-failed"]);
  });

  it("never takes a running Job, however old", () => {
    const running = job("running", { active: 1, startTime: new Date(NOW - 100 * REAP_GRACE_MS) });
    const notYet = job("condition-false", { conditions: [{ type: "Failed", status: "False", lastTransitionTime: new Date(0) }] });
    expect(jobsToReap([running, notYet], NOW, REAP_GRACE_MS)).toEqual([]);
  });

  it("leaves retained Jobs and Jobs a run in this process follows", () => {
    const retained = finishedAgo("retained", 2 * REAP_GRACE_MS, "Complete", { [ANNOTATION_RETAIN]: "true" });
    const followed = finishedAgo("followed", 2 * REAP_GRACE_MS);
    followedJobs.add(jobKey(followed));
    expect(jobsToReap([retained, followed], NOW, REAP_GRACE_MS)).toEqual([]);
  });

  it("counts from the earliest known finish time, and waits when none is known", () => {
    const byCompletionTime = job("completion-time", {
      completionTime: new Date(NOW - 2 * REAP_GRACE_MS),
      conditions: [{ type: "Complete", status: "True", lastTransitionTime: new Date(NOW - 1000) }],
    });
    const undated = job("undated", { conditions: [{ type: "Complete", status: "True" }] });
    expect(jobsToReap([byCompletionTime, undated], NOW, REAP_GRACE_MS).map((candidate) => candidate.metadata?.name)).toEqual([
      "completion-time",
    ]);
  });
});
