import { readFile, rm, stat } from "node:fs/promises";
import { expect, it } from "vitest";
import { runDirectoryFor } from "../../run-directory.ts";
import type { RecordedRun } from "../run-context.ts";
import type { ConformanceContext } from "../conformance-context.ts";
import { countRequests } from "../request-counts.ts";

/** How each way a Job can fail reaches the result: the Kubernetes reason, in words, with the right code. */
export function failureScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("timeout: activeDeadlineSeconds ends the Job, result timedOut with code timeout", async () => {
    const t = get();
    const { result, agentId } = await t.run({ config: { timeoutSec: 2 }, scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 } });
    expect(result.timedOut).toBe(true);
    expect(result.errorCode).toBe("timeout");
    expect(result.errorMessage).toMatch(/timeoutSec=2/);
    await t.expectCleanCluster(agentId);
  });

  it("timeout, the pod's end seen before the Job's DeadlineExceeded: still timedOut with code timeout", async () => {
    const t = get();
    const { faults } = t.cluster.sim;
    try {
      const { result } = await t.run({
        config: { timeoutSec: 2 },
        scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
        during: async (run) => {
          await t.untilStreaming(run);
          expect(faults.holdAllWatches("jobs")).toBeGreaterThanOrEqual(1);
        },
      });
      expect(result.errorCode).toBe("timeout");
      expect(result.timedOut).toBe(true);
    } finally {
      faults.clear();
    }
  });

  it("image pull failure, permanent: an invalid image name fails at once", async () => {
    const t = get();
    const { result, agentId } = await t.run({ config: { image: "registry.example.test/Agent:latest" }, scenario: {} });
    expect(result.errorCode).toBe("k8s_image_pull_failed");
    expect(result.errorMessage).toMatch(/InvalidImageName/);
    expect(result.errorMeta?.permanent).toBe(true);
    await t.expectCleanCluster(agentId);
  });

  it("image pull failure, transient: gives up only after the grace period, naming the pull error", async () => {
    const t = get();
    const { result, run } = await t.run({
      config: { image: "registry.example.test/paperclip/missing:1", imagePullGraceSec: 2 },
      scenario: {},
    });
    expect(result.errorCode).toBe("k8s_image_pull_failed");
    expect(result.errorMessage).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(result.errorMeta?.permanent).toBe(false);
    expect(run.stdout.join("")).toMatch(/\[paperclip\] Pod .*ErrImagePull|\[paperclip\] Pod .*ImagePullBackOff/);
  });

  it("unschedulable: fails with the scheduler's message", async () => {
    const t = get();
    const { result, run, agentId } = await t.run({ config: { nodeSelector: { "disktype": "nvme-none" } }, scenario: {} });
    expect(result.errorCode).toBe("k8s_pod_schedule_failed");
    expect(result.errorMessage).toMatch(/didn't match Pod's node affinity\/selector/);
    expect(run.stdout.join("")).toMatch(/Warning FailedScheduling/);
    await t.expectCleanCluster(agentId);
  });

  it("pod refused by admission: the Job's FailedCreate event fails the run at once, quoting the refusal", async () => {
    const t = get();
    // Admission refuses a pod whose service account does not exist; the Job controller records FailedCreate.
    const { result, run, agentId } = await t.run({ config: { serviceAccountName: "no-such-account", scheduleTimeoutSec: 600 }, scenario: {} });
    expect(result.errorCode).toBe("k8s_pod_create_refused");
    expect(result.errorMessage).toMatch(/^Kubernetes refused to create the pod of Job \S+: Error creating: pods "\S+" is forbidden: error looking up service account \S+\/no-such-account: serviceaccount "no-such-account" not found/);
    expect(run.stdout.join("")).toMatch(/\[paperclip\] Warning FailedCreate on Job /);
    await t.expectCleanCluster(agentId);
  });

  it("bad config: a clear error naming the key, and nothing is created in the cluster", async () => {
    const t = get();
    const creates = () => countRequests(t.cluster.sim.requests.snapshot(), "create");
    const before = creates();
    for (const [key, value] of [
      ["timeoutSec", -5],
      ["resources", { limits: { memory: "lots" } }],
      ["imagePullPolicy", "Sometimes"],
      ["tolerations", "not-a-list"],
    ] as const) {
      const { result } = await t.run({ config: { [key]: value }, scenario: {} });
      expect(result.errorCode).toBe("k8s_config_invalid");
      expect(result.errorMessage).toContain(key);
    }
    expect(creates()).toBe(before);
  });

  it("OOM kill mid-stream: truncated, and the words say OOMKilled", async () => {
    const t = get();
    const { result } = await t.run({
      scenario: { transcript: t.transcript(t.options.transcripts.happy), stopAfterLines: 2, sleepMs: 120_000 },
      during: async (run, agentId) => {
        await t.untilStreaming(run, 2);
        t.cluster.sim.faults.oomKill(t.cluster.namespace, await t.podOf(agentId));
      },
    });
    expect(result.errorCode).toBe(t.options.truncatedErrorCode);
    expect(result.exitCode).toBe(137);
    expect(result.errorMessage).toMatch(/OOMKilled/);
  });

  /** Deletes the agent's Job as `kubectl delete job --cascade=<policy>` would: someone else's action. */
  const deleteJobOf = async (t: ConformanceContext<TParsed>, agentId: string, propagationPolicy: "Background" | "Foreground") => {
    const job = t.cluster.sim.store.list("jobs").items.find((object) => object.metadata.labels?.["paperclip.io/agent-id"] === agentId);
    const response = await fetch(`${t.cluster.sim.url}/apis/batch/v1/namespaces/${t.cluster.namespace}/jobs/${job?.metadata.name}`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ propagationPolicy }),
    });
    expect(response.status).toBe(200);
  };

  it("Job deleted by someone else: k8s_job_deleted_externally with what was seen", async () => {
    const t = get();
    const { result } = await t.run({
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
      during: async (run, agentId) => {
        await t.untilStreaming(run);
        await deleteJobOf(t, agentId, "Background");
      },
    });
    expect(result.errorCode).toBe("k8s_job_deleted_externally");
    expect(result.errorMessage).toMatch(/deleted by someone else/);
  });

  // The race a loaded machine showed: the pod's end (its exit-code file, its watch events) reaches the runtime
  // before the Job's deletion does. Holding the Jobs watch makes that order certain.
  it("Job deleted by someone else, its pod's end seen before the Job's deletion: still k8s_job_deleted_externally", async () => {
    const t = get();
    const { faults } = t.cluster.sim;
    try {
      const { result } = await t.run({
        scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
        during: async (run, agentId) => {
          await t.untilStreaming(run);
          expect(faults.holdAllWatches("jobs")).toBeGreaterThanOrEqual(1);
          await deleteJobOf(t, agentId, "Background");
        },
      });
      expect(result.errorCode).toBe("k8s_job_deleted_externally");
      expect(result.errorMessage).toMatch(/deleted by someone else/);
      expect(result.errorMessage).toMatch(/SIGTERM/);
    } finally {
      faults.clear();
    }
  });

  it("Job deleted by someone else with Foreground propagation (the Job waits for its pod): k8s_job_deleted_externally", async () => {
    const t = get();
    const { result } = await t.run({
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
      during: async (run, agentId) => {
        await t.untilStreaming(run);
        await deleteJobOf(t, agentId, "Foreground");
      },
    });
    expect(result.errorCode).toBe("k8s_job_deleted_externally");
    expect(result.errorMessage).toMatch(/deleted by someone else/);
  });

  it("retainRunFilesOnFailureSec: a failed run's files stay with their deadline, a successful run's go; the Jobs go", async () => {
    const t = get();
    const runDirectory = (run: RecordedRun) => runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, companyId: run.ctx.agent.companyId, agentId: run.ctx.agent.id, runId: run.ctx.runId });
    const config = { retainRunFilesOnFailureSec: 600 };
    const before = Date.now();
    const failed = await t.run({ config, scenario: { chunks: [{ text: "{}\n" }], exitCode: 3 } });
    expect(failed.result.exitCode).toBe(3);
    const kept = runDirectory(failed.run);
    expect(await readFile(kept.prompt, "utf8")).toContain("FAKE_AGENT_SCENARIO");
    const until = Number(await readFile(kept.retainUntil, "utf8"));
    expect(until).toBeGreaterThanOrEqual(before + 600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(failed.run.stdout.join("")).toMatch(/Keeping the failed run's files/);
    await t.expectCleanCluster(failed.agentId);
    // Retained on purpose; the reaper would remove them only after the deadline, so the scenario does.
    await rm(kept.dir, { recursive: true, force: true });

    const succeeded = await t.run({ config, scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
    expect(succeeded.result.exitCode).toBe(0);
    await expect(stat(runDirectory(succeeded.run).dir)).rejects.toMatchObject({ code: "ENOENT" });
    await t.expectCleanCluster(succeeded.agentId);
  });

  it("creation refused (namespace missing): the run directory goes, so a retry of the same run starts clean", async () => {
    const t = get();
    const runId = crypto.randomUUID();
    const refused = await t.run({ runId, config: { namespace: "no-such-namespace" }, scenario: {} });
    expect(refused.result.errorCode).toBe("k8s_secret_create_failed");
    expect(refused.result.errorMessage).toMatch(/not found/);
    const dir = runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, companyId: refused.run.ctx.agent.companyId, agentId: refused.agentId, runId }).dir;
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
    const retried = await t.run({ runId, agentId: refused.agentId, scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
    expect(retried.result.errorMessage ?? null).toBeNull();
    expect(retried.result.exitCode).toBe(0);
  });
}
