import { writeFile } from "node:fs/promises";
import { claudeAgent } from "paperclip-adapter-claude-k8s";
import { codexAgent } from "paperclip-adapter-codex-k8s";
import { geminiAgent } from "paperclip-adapter-gemini-k8s";
import { opencodeAgent } from "paperclip-adapter-opencode-k8s";
import type { AgentDefinition } from "paperclip-k8s-runtime";
import { parseStdout, readCliFixture } from "paperclip-k8s-runtime/testing";
import { afterAll, beforeAll, describe, expect, inject, it, vi, onTestFailed } from "vitest";
import { startE2eEnvironment, type E2eEnvironment } from "./e2e-environment.ts";
import { isJsonObject, logStream, TERMINAL_RUN_STATUSES, type HeartbeatRun } from "./paperclip-api.ts";

const RUN_TIMEOUT_MS = 150_000;
/** How long a Paperclip server's claim on a run it executes lasts without renewal (LEGACY_CONTROLLER_LEASE_MS). */
const PAPERCLIP_RUN_LEASE_MS = 60_000;
const ADAPTER_TYPES = ["claude_k8s", "opencode_k8s", "codex_k8s", "gemini_k8s"] as const;
type AdapterType = (typeof ADAPTER_TYPES)[number];
/** The recorded happy transcript the fake agent replays for each adapter. */
const HAPPY = { claude_k8s: "claude/happy", opencode_k8s: "opencode/happy", codex_k8s: "codex/happy", gemini_k8s: "gemini/happy" } as const;
/** Which agent reads each adapter's transcripts. */
const AGENTS = { claude_k8s: claudeAgent, opencode_k8s: opencodeAgent, codex_k8s: codexAgent, gemini_k8s: geminiAgent } as const;

let env: E2eEnvironment;

beforeAll(async () => {
  env = await startE2eEnvironment(inject("paperclipInstallDir"));
});

afterAll(async () => {
  await env?.stop();
});

async function firstRunOf(agentId: string): Promise<HeartbeatRun> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [run] = await env.api.runsOf(env.companyId, agentId);
    if (run) return run;
    if (Date.now() > deadline) throw new Error(`assigning a task did not wake agent ${agentId}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function finished(runId: string): Promise<HeartbeatRun> {
  return env.api.waitForRun(runId, (run) => TERMINAL_RUN_STATUSES.has(run.status), RUN_TIMEOUT_MS);
}

/**
 * Wakes the agent for the task and waits for that run. Paperclip also wakes agents by itself (several short runs of
 * one agent follow a task's creation); a wake that lands while one of those is in its Job is refused by the
 * runtime's one-Job-per-agent guard (`k8s_concurrent_run_blocked`, as it should), and is tried again.
 */
async function wakeAndFinish(agentId: string, taskId: string): Promise<HeartbeatRun> {
  for (let attempt = 1; ; attempt++) {
    const run = await finished((await env.api.wake(agentId, taskId)).id);
    if (run.errorCode !== "k8s_concurrent_run_blocked" || attempt >= 3) return run;
  }
}

/** The run log's stdout as lines (the runtime's and Paperclip's own lines start with `[paperclip] `). */
async function stdoutLines(runId: string): Promise<string[]> {
  return logStream(await env.api.runLog(runId), "stdout").split("\n").filter((line) => line !== "");
}

/** The agent CLI's lines in the run log: everything but the `[paperclip]` notices. */
async function transcriptLines(runId: string): Promise<string[]> {
  return (await stdoutLines(runId)).filter((line) => !line.startsWith("[paperclip] "));
}

/** The `type` of one JSON line of a CLI transcript. */
function eventType(line: string): unknown {
  const event: unknown = JSON.parse(line);
  return isJsonObject(event) ? event.type : undefined;
}

/** Waits until the run's agent has printed at least one line, so its pod is running. */
async function agentOutputStarted(runId: string): Promise<void> {
  await vi.waitFor(async () => expect((await transcriptLines(runId)).length).toBeGreaterThan(0), { timeout: 60_000, interval: 250 });
}

/** Creates the agent's release file (see the fake agent's `holdAfterLines`) once a run of the agent has reattached to its Job. */
async function releaseOnceReattached(agentId: string, releaseFile: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const [latest] = await env.api.runsOf(env.companyId, agentId);
      expect(latest ? await env.api.runLog(latest.id) : "").toMatch(/\[paperclip\] Reattached to Job /);
    },
    { timeout: RUN_TIMEOUT_MS, interval: 500 },
  );
  await writeFile(env.invocationFile(agentId, releaseFile), "");
}

/** The recorded happy transcript's lines and the session the adapter's own parser reads from it. */
function happyFixture<T>(agent: AgentDefinition<T>, transcript: string): { lines: string[]; sessionId: string | null } {
  const [cli = "", scenario = ""] = transcript.split("/");
  const fixture = readCliFixture(cli, scenario);
  const verdict = agent.interpret(parseStdout(agent.createParser(), fixture.stdout), fixture.outcome, fixture.facts);
  return { lines: fixture.stdout.split("\n").filter((line) => line !== ""), sessionId: verdict.sessionId };
}

function happyOf(adapterType: AdapterType): { lines: string[]; sessionId: string | null } {
  return happyFixture<unknown>(AGENTS[adapterType], HAPPY[adapterType]);
}

describe.each(ADAPTER_TYPES)("%s in a real Paperclip", (adapterType) => {
  it("runs a task to success with transcript, usage, cost and session stored, then resumes the session", async () => {
    const { api } = env;
    const agentId = await api.createAgent(env.companyId, { name: `${adapterType} happy`, adapterType, adapterConfig: env.agentConfig() });
    // Relative: the fake agent writes it in its working directory, the agent's workspace. (Short on purpose: Paperclip
    // cuts long task titles in resumed prompts, and its recovery refuses titles over 240 characters.)
    const record = `.invocation-${adapterType}-happy.json`;
    const taskId = await api.createIssue(env.companyId, env.taskTitle({ transcript: HAPPY[adapterType], recordInvocationTo: record }), agentId);

    const first = await finished((await firstRunOf(agentId)).id);
    expect(first.status, JSON.stringify(first.error)).toBe("succeeded");
    const log = await api.runLog(first.id);
    expect(log).toContain("[paperclip] Created Job");
    expect(isJsonObject(first.usageJson)).toBe(true);
    const usage = isJsonObject(first.usageJson) ? first.usageJson : {};
    // Codex and Gemini CLI report no cost (Paperclip's codex_local and gemini_local store none either).
    if (AGENTS[adapterType].capabilities.reportsCost) expect(usage.costUsd).toEqual(expect.any(Number));
    else expect(usage.costUsd ?? null).toBeNull();
    const session = first.sessionIdAfter;
    expect(session).toEqual(expect.any(String));
    // The streamed transcript (every line carries the session id) is in Paperclip's run log.
    expect(log).toContain(String(session));
    expect(env.jobsOf(agentId)).toEqual([]);

    const second = await wakeAndFinish(agentId, taskId);
    expect(second.status, JSON.stringify(second.error)).toBe("succeeded");
    expect(second.sessionIdBefore, JSON.stringify({ source: second.invocationSource, context: second.contextSnapshot })).toBe(session);
    const invocation = await env.readInvocation(env.invocationFile(agentId, record));
    expect(invocation.argv).toContain(session);
  });

  it("Stop on a running run: cancelled with the adapter's acknowledgement, its Job and pod gone", async () => {
    const { api } = env;
    const agentId = await api.createAgent(env.companyId, { name: `${adapterType} stop`, adapterType, adapterConfig: env.agentConfig() });
    await api.createIssue(env.companyId, env.taskTitle({ chunks: [{ text: "working\n" }], sleepMs: 300_000 }), agentId);
    const running = await firstRunOf(agentId);
    await agentOutputStarted(running.id);
    expect(env.jobsOf(agentId)).toHaveLength(1);

    await api.cancel(running.id);
    const cancelled = await finished(running.id);
    expect(cancelled.status).toBe("cancelled");
    // Paperclip stores the adapter's resultJson on the run: the runtime acknowledged the Stop after deleting the Job.
    const result = isJsonObject(cancelled.resultJson) ? cancelled.resultJson : {};
    expect(result.executionCancellation).toMatchObject({ state: "acknowledged", forced: false });
    expect(env.jobsOf(agentId)).toEqual([]);
    // The Job's deletion takes its pod with it (background propagation, after the pod's grace period).
    await vi.waitFor(() => expect(env.podsOf(agentId)).toEqual([]), { timeout: 30_000, interval: 100 });
  });

  it("serves the adapter's config schema, configuration doc and UI parser", async () => {
    const schema = await env.api.request("GET", `/adapters/${adapterType}/config-schema`);
    const fields = isJsonObject(schema) && Array.isArray(schema.fields) ? schema.fields : [];
    const keys = fields.flatMap((field) => (isJsonObject(field) && typeof field.key === "string" ? [field.key] : []));
    expect(keys).toEqual(expect.arrayContaining(["namespace", "image", "kubeconfig", "timeoutSec"]));
    const doc = await env.api.text(`/llms/agent-configuration/${adapterType}.txt`);
    for (const key of keys) expect(doc, `doc names ${key}`).toContain(`\`${key}\``);
    const parser = await env.api.text(`/adapters/${adapterType}/ui-parser.js`);
    expect(parser).toContain("parseStdoutLine");
  });
});

describe("a run that ends before its agent starts", () => {
  it("does not hold the task for reconciliation: once the operator fixes the image, the next wake runs the task", async () => {
    const { api } = env;
    const adapterType = "claude_k8s";
    const fixed = env.agentConfig();
    const agentId = await api.createAgent(env.companyId, {
      name: `${adapterType} missing image`,
      adapterType,
      adapterConfig: env.agentConfig({ image: "registry.invalid/paperclip/missing-agent:1", imagePullGraceSec: 1 }),
    });
    const taskId = await api.createIssue(env.companyId, env.taskTitle({ transcript: HAPPY[adapterType] }), agentId);
    const refused = await finished((await firstRunOf(agentId)).id);
    expect(refused.status).toBe("failed");
    expect(refused.errorCode).toBe("k8s_image_pull_failed");
    // Paperclip keeps the adapter's evidence on the run: the agent never ran, so nothing of the task needs undoing.
    expect(isJsonObject(refused.resultJson) ? refused.resultJson.executionRecovery : null).toEqual({ kind: "bootstrap", providerWorkStarted: false });

    await api.updateAdapterConfig(agentId, fixed);
    // Strict: a wake answered `execution_reconciliation_required` fails the test instead of being reconciled.
    const next = await finished((await api.wake(agentId, taskId, { reconcile: false })).id);
    expect(next.status, JSON.stringify(next.error)).toBe("succeeded");
    expect(next.sessionIdAfter).toBe(happyOf(adapterType).sessionId);
  });
});

// Last: it kills the server, which every other test shares.
describe("a Paperclip crash mid-run", { timeout: 600_000 }, () => {
  it("kill -9 of the server, restart: the next run of each agent and task reattaches to its Job and finishes it", async () => {
    const { api } = env;
    onTestFailed(() => console.error(`Paperclip's output, last part:\n${env.server.output().slice(-6000)}`));
    // The fake agent prints its first line, then holds until the test releases it once a new run has reattached to
    // its Job: the Job outlives the dead server's run lease and the restart, and still prints after the reattach.
    const releaseFile = ".release-after-reattach";
    const started = await Promise.all(
      ADAPTER_TYPES.map(async (adapterType) => {
        const agentId = await api.createAgent(env.companyId, { name: `${adapterType} crash`, adapterType, adapterConfig: env.agentConfig({ timeoutSec: 600 }) });
        const taskId = await api.createIssue(env.companyId, env.taskTitle({ transcript: HAPPY[adapterType], holdAfterLines: 1, releaseFile }), agentId);
        const run = await firstRunOf(agentId);
        await agentOutputStarted(run.id);
        return { adapterType, agentId, taskId, run };
      }),
    );

    await env.server.crash();
    for (const { agentId } of started) expect(env.jobsOf(agentId)).toHaveLength(1);
    // Paperclip reaps a lost run at startup only once the dead server's lease on it has expired (it renews a
    // 60 s lease every 10 s); until then the run stays `running` and holds its task, so a wake for the task
    // would be deferred. Come back after that, as a server pod restarted by Kubernetes may well do.
    await new Promise((resolve) => setTimeout(resolve, PAPERCLIP_RUN_LEASE_MS + 1_000));
    await env.server.restart();

    await Promise.all(
      started.map(async ({ adapterType, agentId, taskId, run }) => {
        // The startup reap ends the lost run; Paperclip does not retry it by itself (it has no local child process).
        const lost = await api.waitForRun(run.id, (current) => current.status !== "running", 30_000);
        expect(lost.status).toBe("failed");
        expect(lost.errorCode).toBe("process_lost");
        // Paperclip holds the task until the board reconciles the lost run (a non-built-in adapter has no safe
        // resume checkpoint for it). Paperclip's form asks whether the provider stopped; the Job has not, and the
        // runtime's answer to that is the reattach below.
        await api.reconcileLostRun(taskId, run.id, "paperclip-e2e: the server was killed; the agent's Job keeps running and the next run reattaches to it.");

        const [next] = await Promise.all([wakeAndFinish(agentId, taskId), releaseOnceReattached(agentId, releaseFile)]);
        expect(next.status, JSON.stringify(next.error)).toBe("succeeded");
        expect(await stdoutLines(next.id)).toContainEqual(expect.stringMatching(/^\[paperclip\] Reattached to Job /));
        const happy = happyOf(adapterType);
        // Reattaching streams the Job's output from its start: the whole transcript, once, in order. (Compared by
        // event type: Paperclip masks the server user's name and home in stored logs, which the recording contains.)
        expect((await transcriptLines(next.id)).map(eventType)).toEqual(happy.lines.map(eventType));
        expect(next.sessionIdAfter).toBe(happy.sessionId);
        expect(env.jobsOf(agentId)).toEqual([]);
      }),
    );
  });
});
