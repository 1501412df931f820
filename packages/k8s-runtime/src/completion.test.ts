import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { readJobOrNull } from "./agent-lock.ts";
import { endedByKubernetes, failureOf, jobFate } from "./completion.ts";
import { JobTracker } from "./job-tracker.ts";
import { SharedWatch } from "./shared-watch-stream.ts";
import { useWatchTestCluster, WATCH_TEST_NAMESPACE } from "./testing/watch-test-cluster.ts";

const NAMESPACE = WATCH_TEST_NAMESPACE;

const sim = useWatchTestCluster();
let jobCounter = 0;

async function deleteJob(name: string, propagationPolicy: "Background" | "Foreground"): Promise<void> {
  const response = await fetch(`${sim.cluster.url}/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${name}`, {
    method: "DELETE",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ propagationPolicy }),
  });
  expect(response.status).toBe(200);
}

/** A tracker of a new Job, on watches that have seen it. */
async function trackedJob(): Promise<{ name: string; tracker: JobTracker }> {
  const name = `fate-${++jobCounter}`;
  sim.createSuspendedJob(name);
  const jobs = new SharedWatch(sim.access, NAMESPACE, "jobs");
  const pods = new SharedWatch(sim.access, NAMESPACE, "pods");
  sim.track(jobs, pods);
  jobs.start();
  pods.start();
  await Promise.all([jobs.ready(), pods.ready()]);
  await vi.waitFor(() => expect(jobs.get(name)).toBeDefined());
  return { name, tracker: new JobTracker(jobs, pods, name) };
}

const jobReads = () => sim.cluster.requests.count({ verb: "get", resource: "jobs" });

describe("jobFate", () => {
  const noFailure = async (error: unknown) => {
    throw new Error(`unexpected read failure: ${String(error)}`);
  };

  it("the Job still there: not deleted, after one read", async () => {
    const { name, tracker } = await trackedJob();
    const before = jobReads();
    const fate = await jobFate(tracker, () => readJobOrNull(sim.access, NAMESPACE, name), noFailure);
    expect(fate).toMatchObject({ kind: "present", job: { metadata: { name } } });
    expect(jobReads()).toBe(before + 1);
  });

  it("the Job's deletion already in the cache: deleted, without a request", async () => {
    const { name, tracker } = await trackedJob();
    await deleteJob(name, "Background");
    await vi.waitFor(() => expect(tracker.jobGone()).toBe(true));
    const before = jobReads();
    expect(await jobFate(tracker, () => readJobOrNull(sim.access, NAMESPACE, name), noFailure)).toEqual({ kind: "deleted" });
    expect(jobReads()).toBe(before);
  });

  it("Foreground deletion: the Job is still listed, marked for deletion, and counts as gone", async () => {
    const { name, tracker } = await trackedJob();
    // A finalizer of someone else's keeps the Job in the store, as its pods would.
    sim.cluster.store.mutate("jobs", NAMESPACE, name, (job) => {
      job.metadata.finalizers = ["example.test/hold"];
    });
    await deleteJob(name, "Foreground");
    await vi.waitFor(() => expect(tracker.job()?.metadata?.deletionTimestamp).toBeDefined());
    expect(tracker.jobGone()).toBe(true);
    expect(await jobFate(tracker, () => readJobOrNull(sim.access, NAMESPACE, name), noFailure)).toEqual({ kind: "deleted" });
    sim.cluster.store.mutate("jobs", NAMESPACE, name, (job) => {
      job.metadata.finalizers = [];
    });
  });

  it("the Job deleted while its watch is held back: the cache still shows it, the read says it is gone", async () => {
    const { name, tracker } = await trackedJob();
    // Holds the Jobs watch open now, or the one opened next.
    sim.cluster.faults.holdAllWatches("jobs");
    await deleteJob(name, "Background");
    expect(sim.cluster.store.get("jobs", NAMESPACE, name)).toBeUndefined();
    expect(tracker.jobGone()).toBe(false);
    expect(await jobFate(tracker, () => readJobOrNull(sim.access, NAMESPACE, name), noFailure)).toEqual({ kind: "deleted" });
  });

  it("the Job deleted and another made under its name: deleted (the uid differs)", async () => {
    const { name, tracker } = await trackedJob();
    // Holds the Jobs watch open now, or the one opened next.
    sim.cluster.faults.holdAllWatches("jobs");
    await deleteJob(name, "Background");
    sim.createSuspendedJob(name);
    expect(await jobFate(tracker, () => readJobOrNull(sim.access, NAMESPACE, name), noFailure)).toEqual({ kind: "deleted" });
    sim.cluster.store.remove("jobs", NAMESPACE, name);
  });

  it("the Job failing in the cache (FailureTarget, as its deadline sets it): present, as cached, without a request", async () => {
    const { name, tracker } = await trackedJob();
    const failing = { type: "FailureTarget", status: "True", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" };
    sim.cluster.store.mutate("jobs", NAMESPACE, name, (job) => {
      job.status = { conditions: [failing] };
    });
    await vi.waitFor(() => expect(failureOf(tracker.job())?.reason).toBe("DeadlineExceeded"));
    const before = jobReads();
    const fate = await jobFate(tracker, () => readJobOrNull(sim.access, NAMESPACE, name), noFailure);
    expect(fate).toEqual({ kind: "present", job: tracker.job() });
    expect(jobReads()).toBe(before);
  });

  it("a read that fails is reported and leaves the cache's answer", async () => {
    const { name, tracker } = await trackedJob();
    sim.cluster.faults.failRequests({ verb: "get", resource: "jobs", response: { kind: "status", status: 503 }, count: 1 });
    const failures: unknown[] = [];
    const fate = await jobFate(
      tracker,
      () => sim.access.batch.readNamespacedJob({ namespace: NAMESPACE, name }),
      async (error) => void failures.push(error),
    );
    expect(fate).toEqual({ kind: "present", job: tracker.job() });
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/503/);
  });
});

describe("endedByKubernetes", () => {
  const terminating: V1Pod = { metadata: { name: "p", deletionTimestamp: new Date() } };
  const running: V1Pod = { metadata: { name: "p" } };

  it("a signal, an unknown exit code or a pod being deleted: not the agent's own end", () => {
    expect(endedByKubernetes({ signal: "SIGTERM", exitCode: 143 }, running)).toBe(true);
    expect(endedByKubernetes({ signal: null, exitCode: null }, running)).toBe(true);
    expect(endedByKubernetes({ signal: null, exitCode: 0 }, terminating)).toBe(true);
  });

  it("an exit code of the agent's own, pod not being deleted: its own end", () => {
    expect(endedByKubernetes({ signal: null, exitCode: 0 }, running)).toBe(false);
    expect(endedByKubernetes({ signal: null, exitCode: 3 }, undefined)).toBe(false);
  });
});

describe("failureOf", () => {
  it("Failed or FailureTarget, when true; not Complete, not a false condition", () => {
    const job = (type: string, status = "True") => ({ status: { conditions: [{ type, status, reason: "DeadlineExceeded" }] } });
    expect(failureOf(job("Failed"))?.reason).toBe("DeadlineExceeded");
    expect(failureOf(job("FailureTarget"))?.reason).toBe("DeadlineExceeded");
    expect(failureOf(job("FailureTarget", "False"))).toBeUndefined();
    expect(failureOf(job("Complete"))).toBeUndefined();
    expect(failureOf(undefined)).toBeUndefined();
  });
});
