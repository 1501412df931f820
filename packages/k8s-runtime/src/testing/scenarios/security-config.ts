import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ALLOW_LOOPBACK_API_URL_ENV } from "../../config.ts";
import { ANNOTATION_AGENT_NAME, ANNOTATION_AGENT_ID, ANNOTATION_SESSION_ID, LABEL_SESSION_ID } from "../../labels.ts";
import type { ConformanceContext, ScenarioRun } from "../conformance-context.ts";
import { countRequests } from "../request-counts.ts";

/**
 * Issue 11: agent configs can be written by agents, so every config value is hostile input to the server that
 * runs them. Each attack goes through the adapter's real `execute()`: refused with a code and a message that
 * says why, nothing created in the cluster, nothing of the named file in the result or the run log.
 */
export function securityConfigScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  let outside: string;
  const secret = `SERVER-ONLY-${randomUUID()}`;
  beforeAll(async () => {
    // A directory of the server's that no policy root covers.
    outside = await mkdtemp(path.join(tmpdir(), "server-private-"));
    await writeFile(path.join(outside, "secret.md"), `${secret}\n`);
  });
  afterAll(async () => {
    await rm(outside, { recursive: true, force: true });
  });

  const creates = (t: ConformanceContext<TParsed>): number => countRequests(t.cluster.sim.requests.snapshot(), "create");

  /** The run was refused before anything reached the cluster, and nothing of `secret` leaked. */
  function expectRefused(t: ConformanceContext<TParsed>, outcome: ScenarioRun, createsBefore: number, errorCode: string, message: RegExp): void {
    expect(outcome.result.errorCode).toBe(errorCode);
    expect(outcome.result.errorMessage).toMatch(message);
    expect(creates(t)).toBe(createsBefore);
    expect(t.leftovers(outcome.agentId)).toEqual([]);
    const everything = JSON.stringify(outcome.result) + outcome.run.stdout.join("") + outcome.run.stderr.join("");
    expect(everything).not.toContain(secret);
  }

  it("instructionsFilePath in /proc, outside the allowed roots, or a link out of a root: refused, nothing created or read", async () => {
    const t = get();
    const companyId = randomUUID();
    const agentId = randomUUID();
    // A root of the agent's own (its default workspace) holding a link that points outside.
    const agentWorkspace = path.join(t.cluster.instanceRoot, "workspaces", agentId);
    await mkdir(agentWorkspace, { recursive: true });
    await symlink(path.join(outside, "secret.md"), path.join(agentWorkspace, "AGENTS.md"));
    for (const [file, why] of [
      ["/proc/self/environ", /lies in \/proc, which config may never name/],
      [path.join(outside, "secret.md"), /outside the allowed roots for instructions/],
      [path.join(agentWorkspace, "AGENTS.md"), /is a link to .*secret\.md, and it is outside the allowed roots/],
      [path.join(t.cluster.instanceRoot, "secrets", "master.key"), /lies in .*secrets, which config may never name/],
    ] as const) {
      const before = creates(t);
      const outcome = await t.run({ agentId, companyId, config: { instructionsFilePath: file }, scenario: {} });
      expectRefused(t, outcome, before, "k8s_config_forbidden", why);
      expect(outcome.result.errorMessage).toContain("config.instructionsFilePath");
    }
  });

  it("instructionsFilePath in the agent's managed instructions directory is read and the run succeeds", async () => {
    const t = get();
    const companyId = randomUUID();
    const agentId = randomUUID();
    const managed = path.join(t.cluster.instanceRoot, "companies", companyId, "agents", agentId, "instructions");
    await mkdir(managed, { recursive: true });
    await writeFile(path.join(managed, "AGENTS.md"), "# Be brief.\n");
    const { result } = await t.run({
      agentId,
      companyId,
      config: { instructionsFilePath: path.join(managed, "AGENTS.md") },
      scenario: { transcript: t.transcript(t.options.transcripts.happy) },
    });
    expect(result.errorCode ?? null).toBe(null);
    expect(result.errorMessage ?? null).toBe(null);
    expect(result.exitCode).toBe(0);
    await t.expectCleanCluster(agentId);
  });

  it("a kubeconfig with an exec plugin (or a token file in /proc, or a path in /proc) is refused and the plugin never runs", async () => {
    const t = get();
    const marker = path.join(outside, `exec-plugin-ran-${randomUUID()}`);
    const base = t.cluster.sim.kubeconfig;
    const withUser = (user: Record<string, unknown>) => JSON.stringify({ ...base, users: base.users.map((entry) => ({ ...entry, user })) });
    const exec = withUser({
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: "/bin/sh",
        args: ["-c", `touch ${marker}; echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"sim-token"}}'`],
      },
    });
    const authProvider = withUser({ "auth-provider": { name: "gcp", config: { "cmd-path": "/bin/sh", "cmd-args": `-c "touch ${marker}"` } } });
    const tokenFile = withUser({ "token-file": "/proc/self/environ" });
    for (const [kubeconfig, why] of [
      [exec, /users\[0\]\.user uses an exec credential plugin, which would run a program on the Paperclip server/],
      [authProvider, /users\[0\]\.user uses an auth-provider credential plugin/],
      [tokenFile, /users\[0\]\.user\.token-file is refused: it lies in \/proc/],
      ["/proc/self/environ", /lies in \/proc/],
    ] as const) {
      const before = creates(t);
      const outcome = await t.run({ config: { kubeconfig }, scenario: {} });
      expectRefused(t, outcome, before, "k8s_config_forbidden", why);
      expect(outcome.result.errorMessage).not.toContain(marker);
      expect(outcome.result.errorMessage).not.toContain("sim-token");
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("config errors never show a secret value; absurd numbers are refused naming the key and the range", async () => {
    const t = get();
    const token = `sk-live-${randomUUID()}`;
    for (const [config, code, message] of [
      [{ env: `{"API_KEY": "${token}"` }, "k8s_config_invalid", /^config\.env is not valid JSON/],
      [{ env: `API_KEY=ok\n${token}` }, "k8s_config_invalid", /^config\.env line 2 must be key=value, got a text of \d+ characters \(not shown/],
      [{ extraArgs: `--api-key "${token}` }, "k8s_config_invalid", /^config\.extraArgs has an unterminated " quote/],
      [{ timeoutSec: 1e20 }, "k8s_config_invalid", /^config\.timeoutSec must be a non-negative number up to 2147483647/],
      [{ runAsUser: 2 ** 31 }, "k8s_config_invalid", /^config\.runAsUser must be a non-negative integer up to 2147483647/],
      [{ graceSec: "NaN" }, "k8s_config_invalid", /^config\.graceSec must be a non-negative number up to 2147483647/],
      [{ resources: { limits: { memory: "1e20" } } }, "k8s_config_invalid", /^config\.resources\.limits\.memory must be a quantity of at most/],
    ] as const) {
      const before = creates(t);
      const outcome = await t.run({ config, scenario: {} });
      expect(outcome.result.errorCode).toBe(code);
      expect(outcome.result.errorMessage).toMatch(message);
      for (const part of [token, token.slice(0, 12), token.slice(-12)]) expect(JSON.stringify(outcome.result)).not.toContain(part);
      expect(creates(t)).toBe(before);
    }
  });

  it("a loopback paperclipApiUrl is refused unless the server env allows it", async () => {
    const t = get();
    const allowed = process.env[ALLOW_LOOPBACK_API_URL_ENV];
    delete process.env[ALLOW_LOOPBACK_API_URL_ENV];
    try {
      const before = creates(t);
      const outcome = await t.run({ config: { paperclipApiUrl: "http://[::1]:3100" }, scenario: {} });
      expectRefused(t, outcome, before, "k8s_config_invalid", /^config\.paperclipApiUrl "http:\/\/\[::1\]:3100" is a loopback address/);
    } finally {
      if (allowed === undefined) delete process.env[ALLOW_LOOPBACK_API_URL_ENV];
      else process.env[ALLOW_LOOPBACK_API_URL_ENV] = allowed;
    }
  });

  it("misspelt config keys are named in the run log; the run goes on", async () => {
    const t = get();
    const { result, run } = await t.run({ config: { timeoutSecs: 30, namesapce: "x" }, scenario: { chunks: [{ text: "{}\n" }] } });
    expect(result.exitCode).toBe(0);
    expect(run.stdout.join("")).toContain('[paperclip] Unknown config keys ignored (misspelt?): "timeoutSecs", "namesapce".');
  });

  it("a 300 KiB agent name is cut in the annotation and the Job is created", async () => {
    const t = get();
    const agentId = randomUUID();
    const annotations: Record<string, string>[] = [];
    const { result } = await t.run({
      agentId,
      agentName: `Agent ${"n".repeat(300 * 1024)}`,
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 300 },
      during: async (run) => {
        await t.untilStreaming(run);
        const job = t.cluster.sim.store.list("jobs").items.find((object) => object.metadata.annotations?.[ANNOTATION_AGENT_ID] === agentId);
        if (job?.metadata.annotations) annotations.push(job.metadata.annotations);
      },
    });
    expect(result.exitCode).toBe(0);
    expect(annotations).toHaveLength(1);
    const name = annotations[0]?.[ANNOTATION_AGENT_NAME] ?? "";
    expect(name.startsWith("Agent nnn")).toBe(true);
    expect(name.length).toBeLessThanOrEqual(1024);
    expect(name.endsWith("…")).toBe(true);
  });

  it.each([
    ["300 KiB long", `ses-${"x".repeat(300 * 1024)}`],
    ["with characters no session id has", "abc def'$(touch /tmp/pwned)"],
  ])("a saved session id %s is dropped with a message: the run starts fresh and the session is cleared", async (_, sessionId) => {
    const t = get();
    const agentId = randomUUID();
    const seen: Record<string, string>[] = [];
    const { result, run } = await t.run({
      agentId,
      sessionParams: { sessionId },
      scenario: { chunks: [{ text: "{}\n" }], sleepMs: 300 },
      during: async (recorded) => {
        await t.untilStreaming(recorded);
        const job = t.cluster.sim.store.list("jobs").items.find((object) => object.metadata.annotations?.[ANNOTATION_AGENT_ID] === agentId);
        if (job) seen.push({ ...job.metadata.annotations, ...job.metadata.labels });
      },
    });
    expect(result.exitCode).toBe(0);
    expect(result.clearSession).toBe(true);
    expect(run.stdout.join("")).toMatch(/\[paperclip\] Session ".*"( \(\d+ characters\))? is not resumed and is cleared: it (is \d+ characters long|holds characters)/);
    expect(run.stdout.join("").length).toBeLessThan(100 * 1024);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[ANNOTATION_SESSION_ID]).toBeUndefined();
    expect(seen[0]?.[LABEL_SESSION_ID]).toBeUndefined();
    expect(run.meta[0]?.commandArgs?.join(" ") ?? "").not.toContain(sessionId.slice(0, 20));
    await t.expectCleanCluster(agentId);
  });
}
