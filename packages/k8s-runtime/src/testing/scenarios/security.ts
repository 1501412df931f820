import { expect, it } from "vitest";
import type { ConformanceContext } from "../conformance-context.ts";

/** DESIGN §9: nothing secret in Job or Pod specs, env passed by allowlist only. */
export function securityScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("no secret value anywhere in the Job, the Pod or their env as stored; the agent still gets them", async () => {
    const t = get();
    const agentId = crypto.randomUUID();
    const recording = await t.recordingPath(agentId, "env.json");
    const configSecret = "config-secret-value-7f3a9c";
    const token = `run-jwt-${crypto.randomUUID()}`;
    const stored: string[] = [];
    const { result } = await t.run({
      agentId,
      authToken: token,
      config: { env: { MY_SERVICE_TOKEN: configSecret } },
      scenario: { chunks: [{ text: "{}\n" }], recordInvocationTo: recording, sleepMs: 500 },
      during: async (run) => {
        await t.untilStreaming(run);
        for (const resource of ["jobs", "pods"]) {
          for (const object of t.cluster.sim.store.list(resource).items) {
            if (object.metadata.labels?.["paperclip.io/agent-id"] === agentId) stored.push(JSON.stringify(object));
          }
        }
      },
    });
    expect(result.exitCode).toBe(0);
    expect(stored.length).toBe(2);
    for (const secret of [configSecret, token]) {
      for (const form of [secret, Buffer.from(secret).toString("base64")]) {
        for (const object of stored) expect(object).not.toContain(form);
      }
    }
    const { env } = await t.readRecording(recording);
    expect(env.MY_SERVICE_TOKEN).toBe(configSecret);
    expect(env.PAPERCLIP_API_KEY).toBe(token);
    expect(env.PAPERCLIP_RUN_ID).toBeTruthy();
  });

  it("server env outside the allowlist never reaches the pod; allowlisted provider credentials do", async () => {
    const t = get();
    const agentId = crypto.randomUUID();
    const recording = await t.recordingPath(agentId, "env.json");
    const saved = { DATABASE_URL: process.env.DATABASE_URL, ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY };
    process.env.DATABASE_URL = "postgres://paperclip:hunter2@db/paperclip";
    process.env.ANTHROPIC_API_KEY = "sk-ant-allowlisted";
    try {
      const stored: string[] = [];
      await t.run({
        agentId,
        scenario: { chunks: [{ text: "{}\n" }], recordInvocationTo: recording, sleepMs: 300 },
        during: async (run) => {
          await t.untilStreaming(run);
          stored.push(...t.cluster.sim.store.list("pods").items.map((object) => JSON.stringify(object)));
        },
      });
      const { env } = await t.readRecording(recording);
      expect(env.DATABASE_URL).toBeUndefined();
      expect(env.ANTHROPIC_API_KEY).toBe("sk-ant-allowlisted");
      for (const object of stored) expect(object).not.toContain("hunter2");
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
}
