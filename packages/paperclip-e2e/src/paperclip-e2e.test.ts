import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startE2eEnvironment, type E2eEnvironment } from "./e2e-environment.ts";
import { isJsonObject, TERMINAL_RUN_STATUSES, type HeartbeatRun } from "./paperclip-api.ts";

const RUN_TIMEOUT_MS = 120_000;
/** The recorded happy transcript the fake agent replays for each adapter. */
const HAPPY = { claude_k8s: "claude/happy", opencode_k8s: "opencode/happy" } as const;

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

describe.each(["claude_k8s", "opencode_k8s"] as const)("%s in a real Paperclip", (adapterType) => {
  it("runs a task to success with transcript, usage, cost and session stored, then resumes the session", async () => {
    const { api } = env;
    const record = env.invocationFile(`${adapterType}-happy`);
    const agentId = await api.createAgent(env.companyId, { name: `${adapterType} happy`, adapterType, adapterConfig: env.agentConfig() });
    const taskId = await api.createIssue(env.companyId, env.taskTitle({ transcript: HAPPY[adapterType], recordInvocationTo: record }), agentId);

    const first = await finished((await firstRunOf(agentId)).id);
    expect(first.status, JSON.stringify(first.error)).toBe("succeeded");
    const log = await api.runLog(first.id);
    expect(log).toContain("[paperclip] Created Job");
    expect(isJsonObject(first.usageJson)).toBe(true);
    const usage = isJsonObject(first.usageJson) ? first.usageJson : {};
    expect(usage.costUsd).toEqual(expect.any(Number));
    const session = first.sessionIdAfter;
    expect(session).toEqual(expect.any(String));
    // The streamed transcript (every line carries the session id) is in Paperclip's run log.
    expect(log).toContain(String(session));
    expect(env.jobsOf(agentId)).toEqual([]);

    const second = await finished((await api.wake(agentId, taskId)).id);
    expect(second.status, JSON.stringify(second.error)).toBe("succeeded");
    expect(second.sessionIdBefore).toBe(session);
    const invocation = await env.readInvocation(record);
    expect(invocation.argv).toContain(session);
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
