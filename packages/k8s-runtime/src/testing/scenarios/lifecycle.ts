import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, it, vi } from "vitest";
import { ANNOTATION_AGENT_ID, ANNOTATION_RUN_ID, ANNOTATION_SESSION_ID, ANNOTATION_TASK_ID, LABEL_AGENT_ID, LABEL_MANAGED_BY } from "../../labels.ts";
import { startAdapterProcess } from "../adapter-process.ts";
import { scenarioPrompt, type ConformanceContext } from "../conformance-context.ts";
import { countRequests } from "../request-counts.ts";

/** Cancellation, reattach after a server crash, orphans and the per-agent guard. */
export function lifecycleScenarios<TParsed>(get: () => ConformanceContext<TParsed>, adapterModuleUrl: string): void {
  it("cancellation through ctx.signal: Job and pod gone, acknowledged", async () => {
    const t = get();
    const { result, agentId } = await t.run({
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
      during: async (run) => {
        await t.untilStreaming(run);
        run.abort();
      },
    });
    expect(result.errorCode).toBe("cancelled");
    expect(result.resultJson?.executionCancellation).toMatchObject({ state: "acknowledged" });
    await t.expectCleanCluster(agentId);
  });

  it("cancellation through run-status polling when the server passes no signal (5xx is not a cancel)", async () => {
    const t = get();
    let status = "running";
    const seen: { path: string; auth: string | undefined }[] = [];
    const server = createServer((request, response) => {
      seen.push({ path: request.url ?? "", auth: request.headers.authorization });
      if (seen.length === 1) return void response.writeHead(500).end("boom");
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { result, run, agentId } = await t.run({
        withoutSignal: true,
        config: { paperclipApiUrl: `http://127.0.0.1:${port}`, keepaliveSec: 1 },
        scenario: { chunks: [{ text: "{}\n" }], sleepMs: 120_000 },
        during: async (run) => {
          await t.untilStreaming(run);
          await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
          status = "cancelled";
        },
      });
      expect(result.errorCode).toBe("cancelled");
      expect(seen[0]?.path).toBe(`/api/heartbeat-runs/${run.ctx.runId}`);
      expect(seen[0]?.auth).toBe(`Bearer ${run.ctx.authToken}`);
      await t.expectCleanCluster(agentId);
    } finally {
      server.close();
    }
  });

  it("server killed mid-run: the next execute() reattaches, streams from the start, and returns the right result", async () => {
    const t = get();
    const { transcripts } = t.options;
    const agentId = crypto.randomUUID();
    const taskId = `task-${agentId}`;
    const workspaceCwd = await t.cluster.workspace(agentId);
    const config = t.cluster.config({ promptTemplate: scenarioPrompt({ transcript: t.transcript(transcripts.happy), lineDelayMs: 150 }) });
    const { child, output } = startAdapterProcess(adapterModuleUrl, { agentId, taskId, workspaceCwd, adapterType: t.agent.type, config });
    await vi.waitFor(() => expect(output().split("\n").filter((line) => line.includes('"stdout"') && !line.includes("[paperclip]")).length).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const { result, run } = await t.run({ agentId, taskId, workspaceCwd, config, scenario: {} });
    expect(result.exitCode).toBe(0);
    expect(result.sessionId).toBe(t.expectedVerdict(transcripts.happy).sessionId);
    expect(run.transcript().join("")).toBe(t.fixture(transcripts.happy).stdout);
    expect(run.stdout.join("")).toMatch(/Reattached to Job/);
    expect(run.dispatched).toBe(0);
    await t.expectCleanCluster(agentId);
  });

  const orphanCases = [
    { name: "another task", orphanTask: "task-other", runTask: "task-mine", orphanSession: null, runSession: null, reattach: true, code: "k8s_concurrent_run_blocked" },
    { name: "unknown task", orphanTask: null, runTask: "task-mine", orphanSession: null, runSession: null, reattach: true, code: "k8s_orphan_task_unknown" },
    { name: "another session", orphanTask: "task-mine", runTask: "task-mine", orphanSession: "session-a", runSession: "session-b", reattach: true, code: "k8s_orphan_session_mismatch" },
    { name: "reattach disabled", orphanTask: "task-mine", runTask: "task-mine", orphanSession: null, runSession: null, reattach: false, code: "k8s_concurrent_run_blocked" },
  ] as const;
  for (const orphanCase of orphanCases) {
    it(`orphan Job of ${orphanCase.name}: blocked with ${orphanCase.code}, nothing created, orphan untouched`, async () => {
      const t = get();
      const agentId = crypto.randomUUID();
      const orphanName = `orphan-${agentId.slice(0, 8)}`;
      const annotations: Record<string, string> = { [ANNOTATION_AGENT_ID]: agentId, [ANNOTATION_RUN_ID]: "run-before-restart" };
      if (orphanCase.orphanTask) annotations[ANNOTATION_TASK_ID] = orphanCase.orphanTask;
      if (orphanCase.orphanSession) annotations[ANNOTATION_SESSION_ID] = orphanCase.orphanSession;
      const metadata = { labels: { [LABEL_MANAGED_BY]: "paperclip", [LABEL_AGENT_ID]: agentId }, annotations };
      const created = await fetch(`${t.cluster.sim.url}/apis/batch/v1/namespaces/${t.cluster.namespace}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          apiVersion: "batch/v1",
          kind: "Job",
          metadata: { name: orphanName, ...metadata },
          spec: { backoffLimit: 0, template: { metadata, spec: { restartPolicy: "Never", securityContext: { runAsUser: 1000 }, containers: [{ name: "agent", image: t.cluster.image, command: ["sleep", "300"] }] } } },
        }),
      });
      expect(created.status).toBe(201);
      try {
        const jobCreates = () => countRequests(t.cluster.sim.requests.snapshot(), "create", "jobs");
        const before = jobCreates();
        const cwd = await t.cluster.workspace(agentId);
        const { result } = await t.run({
          agentId,
          taskId: orphanCase.runTask,
          workspaceCwd: cwd,
          sessionParams: orphanCase.runSession ? { sessionId: orphanCase.runSession, cwd } : null,
          config: { reattachOrphanedJobs: orphanCase.reattach },
          scenario: {},
        });
        expect(result.errorCode).toBe(orphanCase.code);
        expect(result.errorMessage).toContain(orphanName);
        expect(jobCreates()).toBe(before);
        expect(t.cluster.sim.store.get("jobs", t.cluster.namespace, orphanName)).toBeDefined();
      } finally {
        await fetch(`${t.cluster.sim.url}/apis/batch/v1/namespaces/${t.cluster.namespace}/jobs/${orphanName}?propagationPolicy=Background`, { method: "DELETE" });
      }
    });
  }

  it("two concurrent execute() for one agent: one Job, the other run is blocked", async () => {
    const t = get();
    const agentId = crypto.randomUUID();
    const taskId = `task-${agentId}`;
    const workspaceCwd = await t.cluster.workspace(agentId);
    const jobCreates = () => countRequests(t.cluster.sim.requests.snapshot(), "create", "jobs");
    const before = jobCreates();
    const scenario = { transcript: t.transcript(t.options.transcripts.happy), lineDelayMs: 50 };
    const [first, second] = await Promise.all([
      t.run({ agentId, taskId, workspaceCwd, scenario }),
      t.run({ agentId, taskId, workspaceCwd, scenario }),
    ]);
    const codes = [first.result.errorCode ?? null, second.result.errorCode ?? null].sort();
    expect(codes).toEqual([null, "k8s_concurrent_run_blocked"].sort());
    expect(jobCreates() - before).toBe(1);
    await t.expectCleanCluster(agentId);
  });
}
