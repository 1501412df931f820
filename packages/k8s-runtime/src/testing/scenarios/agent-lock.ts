import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import type { K8sObject } from "paperclip-k8s-sim";
import { expect, it, vi } from "vitest";
import { clusterAccessFor } from "../../cluster-access.ts";
import { LABEL_AGENT_ID, LABEL_MANAGED_BY, sanitizeLabelValue } from "../../labels.ts";
import { runSecretNameFor } from "../../names.ts";
import { ensureReaper, runReapersOnce } from "../../reaper.ts";
import { runDirectoryFor } from "../../run-directory.ts";
import { ANNOTATION_HOLDER_JOB } from "../../run-secret.ts";
import { startAdapterProcess } from "../adapter-process.ts";
import { scenarioPrompt, type ConformanceContext } from "../conformance-context.ts";
import { countRequests } from "../request-counts.ts";

/**
 * One Job per agent across Paperclip processes (the run Secret is the agent's lock), and no run Secret left
 * behind by a crash, a failed owner patch or a Job deleted with orphan propagation.
 */
export function agentLockScenarios<TParsed>(get: () => ConformanceContext<TParsed>, adapterModuleUrl: string): void {
  const agentSecret = (t: ConformanceContext<TParsed>, agentId: string) =>
    t.cluster.sim.store.get("secrets", t.cluster.namespace, runSecretNameFor(agentId));
  const agentJobs = (t: ConformanceContext<TParsed>, agentId: string) =>
    t.cluster.sim.store.list("jobs", { filter: (job) => job.metadata.labels?.[LABEL_AGENT_ID] === sanitizeLabelValue(agentId) }).items;
  /** Makes the agent's run Secret look older than any grace period. */
  const age = (t: ConformanceContext<TParsed>, agentId: string) =>
    t.cluster.sim.store.mutate("secrets", t.cluster.namespace, runSecretNameFor(agentId), (secret) => {
      secret.metadata.creationTimestamp = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    });
  /** A Job of the test's own (not a Paperclip run's), for the lock to point at. */
  const createHolderJob = (t: ConformanceContext<TParsed>, name: string, spec: { suspend?: boolean; command: string[] }): K8sObject =>
    t.cluster.sim.store.create("jobs", {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace: t.cluster.namespace },
      spec: {
        backoffLimit: 0,
        ...(spec.suspend ? { suspend: true } : {}),
        // Restricted, as the conformance namespace enforces.
        template: {
          spec: {
            restartPolicy: "Never",
            securityContext: { runAsUser: 1000, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "holder",
                image: t.cluster.image,
                command: spec.command,
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      },
    });
  const createHolderSecret = (t: ConformanceContext<TParsed>, agentId: string, job: K8sObject) =>
    t.cluster.sim.store.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: runSecretNameFor(agentId),
        namespace: t.cluster.namespace,
        labels: { [LABEL_MANAGED_BY]: "paperclip", [LABEL_AGENT_ID]: sanitizeLabelValue(agentId) },
        annotations: { "paperclip.io/run-id": "run-elsewhere", [ANNOTATION_HOLDER_JOB]: job.metadata.name ?? "" },
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: job.metadata.name ?? "", uid: job.metadata.uid ?? "" }],
      },
      type: "Opaque",
      data: {},
    });
  const deleteJob = (t: ConformanceContext<TParsed>, name: string, propagationPolicy?: "Background") =>
    fetch(`${t.cluster.sim.url}/apis/batch/v1/namespaces/${t.cluster.namespace}/jobs/${name}`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(propagationPolicy ? { propagationPolicy } : {}),
    });

  it("two Paperclip processes, one agent: one Job at a time, the other run blocked; the next run starts normally", async () => {
    const t = get();
    const agentId = randomUUID();
    const workspaceCwd = await t.cluster.workspace(agentId);
    const config = t.cluster.config({ promptTemplate: scenarioPrompt({ transcript: t.transcript(t.options.transcripts.happy), lineDelayMs: 50 }) });
    let mostJobsAtOnce = 0;
    const unsubscribe = t.cluster.sim.store.subscribe("jobs", () => {
      mostJobsAtOnce = Math.max(mostJobsAtOnce, agentJobs(t, agentId).length);
    });
    const jobCreates = () => countRequests(t.cluster.sim.requests.snapshot(), "create", "jobs");
    const before = jobCreates();
    // Job creates are slow, so the run that wins the Secret has no Job yet when the other looks: only the lock can tell.
    t.cluster.sim.faults.addLatency({ verb: "create", resource: "jobs", ms: 3_000 });
    try {
      const runs = ["first", "second"].map((name) => {
        const input = { agentId, runId: randomUUID(), taskId: `task-${name}-${agentId}`, workspaceCwd, adapterType: t.agent.type, config };
        t.track({ companyId: "company-1", agentId, runId: input.runId });
        return startAdapterProcess(adapterModuleUrl, input);
      });
      const results = await Promise.all(runs.map((run) => run.result));
      const blocked = results.filter((result) => result.errorCode === "k8s_concurrent_run_blocked");
      expect(blocked).toHaveLength(1);
      expect(results.filter((result) => result.exitCode === 0 && !result.errorCode)).toHaveLength(1);
      expect(blocked[0]?.errorMessage).toMatch(/Another Paperclip process is starting or running a run of this agent|is still running task/);
      expect(jobCreates() - before).toBe(1);
      expect(mostJobsAtOnce).toBe(1);
    } finally {
      t.cluster.sim.faults.clear();
      unsubscribe();
    }
    await t.expectCleanCluster(agentId);
    const next = await t.run({ agentId, workspaceCwd, scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
    expect(next.result.errorMessage ?? null).toBeNull();
    expect(next.result.exitCode).toBe(0);
  });

  it("the agent's run Secret held by another process's live Job (not in this process's watch): blocked, nothing created", async () => {
    const t = get();
    const agentId = randomUUID();
    const holder = createHolderJob(t, `holder-${agentId.slice(0, 8)}`, { suspend: true, command: ["sleep", "300"] });
    createHolderSecret(t, agentId, holder);
    const jobCreates = () => countRequests(t.cluster.sim.requests.snapshot(), "create", "jobs");
    const before = jobCreates();
    try {
      const { result } = await t.run({ agentId, scenario: {} });
      expect(result.errorCode).toBe("k8s_concurrent_run_blocked");
      expect(result.errorMessage).toMatch(/Another Paperclip process is starting or running a run of this agent \(run run-elsewhere; its Job holder-\w+ is running/);
      expect(jobCreates()).toBe(before);
      expect(agentSecret(t, agentId)?.metadata.uid).toBeDefined();
    } finally {
      await deleteJob(t, holder.metadata.name ?? "", "Background");
    }
  });

  it("a run Secret whose Job finished without cleanup (server gone) is taken over by the next run", async () => {
    const t = get();
    const agentId = randomUUID();
    const holder = createHolderJob(t, `done-${agentId.slice(0, 8)}`, { command: ["sh", "-c", "exit 0"] });
    const stale = createHolderSecret(t, agentId, holder);
    try {
      await vi.waitFor(() => expect(t.cluster.sim.store.get("jobs", t.cluster.namespace, holder.metadata.name ?? "")?.status).toMatchObject({ succeeded: 1 }), { timeout: 30_000 });
      const { result, run } = await t.run({ agentId, scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
      expect(result.exitCode).toBe(0);
      expect(run.stdout.join("")).toMatch(/was left behind \(its Job done-\w+ has finished\); deleting it/);
      expect(agentSecret(t, agentId)?.metadata.uid ?? "gone").not.toBe(stale.metadata.uid);
    } finally {
      await deleteJob(t, holder.metadata.name ?? "", "Background");
    }
  });

  it("a server killed between its run Secret and its Job: the agent is blocked for the grace period, then the reaper deletes the Secret", async () => {
    const t = get();
    const agentId = randomUUID();
    const workspaceCwd = await t.cluster.workspace(agentId);
    const config = t.cluster.config({ promptTemplate: scenarioPrompt({}) });
    const runId = randomUUID();
    t.track({ companyId: "company-1", agentId, runId });
    // Every Job create is lost on the way, so the server sits between its Secret and its Job until it is killed.
    t.cluster.sim.faults.failRequests({ verb: "create", resource: "jobs", response: { kind: "drop" }, count: 1_000 });
    const jobCreates = () => countRequests(t.cluster.sim.requests.snapshot(), "create", "jobs");
    const before = jobCreates();
    try {
      const crashed = startAdapterProcess(adapterModuleUrl, { agentId, runId, workspaceCwd, adapterType: t.agent.type, config });
      await vi.waitFor(() => expect(jobCreates()).toBeGreaterThan(before), { timeout: 30_000, interval: 20 });
      crashed.child.kill("SIGKILL");
      await new Promise((resolve) => crashed.child.once("exit", resolve));
    } finally {
      t.cluster.sim.faults.clear();
    }
    expect(agentSecret(t, agentId)?.metadata.ownerReferences).toBeUndefined();
    expect(agentJobs(t, agentId)).toEqual([]);

    const early = await t.run({ agentId, workspaceCwd, scenario: {} });
    expect(early.result.errorCode).toBe("k8s_concurrent_run_blocked");
    expect(early.result.errorMessage).toMatch(/is being created/);

    age(t, agentId);
    ensureReaper(clusterAccessFor(t.cluster.sim.kubeconfigPath), t.cluster.namespace, t.cluster.instanceRoot);
    await vi.waitFor(
      async () => {
        await runReapersOnce();
        expect(agentSecret(t, agentId)).toBeUndefined();
      },
      { timeout: 30_000, interval: 500 },
    );
    // The killed server's prompt stays until the reaper's sweep of unowned run directories, a day later.
    await rm(runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, companyId: "company-1", agentId, runId }).dir, { recursive: true, force: true });
    const next = await t.run({ agentId, workspaceCwd, scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
    expect(next.result.exitCode).toBe(0);
  });

  it("the owner patch refused: the run goes on, and cleanup deletes its Secret", async () => {
    const t = get();
    t.cluster.sim.faults.failRequests({ verb: "patch", resource: "secrets", response: { kind: "status", status: 503 }, count: 6 });
    try {
      const { result, run, agentId } = await t.run({ scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
      expect(result.exitCode).toBe(0);
      expect(run.stdout.join("")).toMatch(/could not be given to its Job .*it is deleted at cleanup/);
      // Deleted by cleanup itself, not by garbage collection (it never had an owner).
      expect(agentSecret(t, agentId)).toBeUndefined();
    } finally {
      t.cluster.sim.faults.clear();
    }
  });

  it("the Job deleted with orphan propagation mid-run: its Secret is deleted at cleanup, or, when that fails, taken over by the next run", async () => {
    const t = get();
    let orphanedPod = "";
    const orphaned = await t.run({
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
      during: async (run, agentId) => {
        await t.untilStreaming(run);
        orphanedPod = await t.podOf(agentId);
        const [job] = agentJobs(t, agentId);
        // No propagationPolicy: the API's default for Jobs orphans the pod and strips the Secret's owner.
        await deleteJob(t, job?.metadata.name ?? "");
      },
    });
    expect(orphaned.result.errorCode).toBe("k8s_job_deleted_externally");
    expect(agentSecret(t, orphaned.agentId)).toBeUndefined();
    // The orphaned pod is the deleter's to remove: the runtime may not delete pods.
    expect(t.cluster.sim.store.get("pods", t.cluster.namespace, orphanedPod)?.metadata.ownerReferences).toBeUndefined();
    await fetch(`${t.cluster.sim.url}/api/v1/namespaces/${t.cluster.namespace}/pods/${orphanedPod}`, { method: "DELETE" });

    // The same, with the Secret's delete at cleanup refused: it stays ownerless, and the agent's next run takes it over.
    const agentId = randomUUID();
    const first = await t.run({
      agentId,
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
      during: async (run) => {
        await t.untilStreaming(run);
        orphanedPod = await t.podOf(agentId);
        t.cluster.sim.faults.failRequests({ verb: "delete", resource: "secrets", response: { kind: "status", status: 503 }, count: 6 });
        await deleteJob(t, agentJobs(t, agentId)[0]?.metadata.name ?? "");
      },
    }).finally(() => t.cluster.sim.faults.clear());
    expect(first.result.errorCode).toBe("k8s_job_deleted_externally");
    expect(first.run.stdout.join("")).toMatch(/Could not delete Secret .*the reaper will retry/);
    expect(agentSecret(t, agentId)?.metadata.ownerReferences).toBeUndefined();
    await fetch(`${t.cluster.sim.url}/api/v1/namespaces/${t.cluster.namespace}/pods/${orphanedPod}`, { method: "DELETE" });
    const next = await t.run({ agentId, scenario: { transcript: t.transcript(t.options.transcripts.happy) } });
    expect(next.result.exitCode).toBe(0);
    expect(next.run.stdout.join("")).toMatch(/was left behind \(its Job \S+ is gone\); deleting it/);
  });
}
