import type { V1Job, V1Secret } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { ANNOTATION_RETAIN } from "./labels.ts";
import { followedJobs, jobKey } from "./launch-guard.ts";
import { REAP_GRACE_MS, jobsToReap, runSecretsToReap } from "./reaper.ts";

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

describe("runSecretsToReap", () => {
  const GRACE = 120_000;
  const live = (name: string, uid = `${name}-uid`): V1Job => ({ metadata: { name, namespace: "agents", uid }, status: { active: 1 } });
  const secret = (name: string, holder: string, ageMs: number, ownerUid?: string): V1Secret => ({
    metadata: {
      name,
      namespace: "agents",
      uid: `${name}-uid`,
      creationTimestamp: new Date(NOW - ageMs),
      annotations: { "paperclip.io/job-name": holder },
      ...(ownerUid ? { ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: holder, uid: ownerUid }] } : {}),
    },
  });
  const names = (secrets: V1Secret[]) => secrets.map((candidate) => candidate.metadata?.name);

  it("takes Secrets whose Job is gone, finished, or replaced, and ownerless ones whose Job never came", () => {
    const jobs = [live("running"), finishedAgo("done", 1000), live("recreated", "new-uid")];
    const secrets = [
      secret("owner-gone", "deleted-job", 2 * GRACE, "deleted-uid"),
      secret("owner-finished", "done", 2 * GRACE, "done-uid"),
      secret("owner-replaced", "recreated", 2 * GRACE, "old-uid"),
      secret("never-owned", "never-created", 2 * GRACE),
    ];
    expect(names(runSecretsToReap(secrets, jobs, NOW, GRACE))).toEqual(["owner-gone", "owner-finished", "owner-replaced", "never-owned"]);
  });

  it("keeps Secrets of running Jobs (owned or not yet) and every Secret younger than the grace period", () => {
    const jobs = [live("running"), live("unpatched")];
    const secrets = [
      secret("owned-running", "running", 10 * GRACE, "running-uid"),
      secret("owner-patch-failed", "unpatched", 10 * GRACE),
      secret("young-owner-gone", "deleted-job", GRACE - 1, "deleted-uid"),
      secret("young-never-owned", "being-created", GRACE - 1),
    ];
    expect(runSecretsToReap(secrets, jobs, NOW, GRACE)).toEqual([]);
  });
});
