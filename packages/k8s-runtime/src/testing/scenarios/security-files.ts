import { randomUUID } from "node:crypto";
import { lstat, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { runDirectoryFor, type RunDirectory } from "../../run-directory.ts";
import type { ConformanceContext, FileActionOutcome } from "../conformance-context.ts";

/** A file of the Paperclip server's own, on the shared volume, that no agent may read. */
async function plantServerSecret(instanceRoot: string): Promise<{ file: string; content: string }> {
  const content = `MASTER-KEY-${randomUUID()}`;
  const file = path.join(instanceRoot, "secrets", `master-${randomUUID()}.key`);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, content, { mode: 0o600 });
  return { file, content };
}

function runDirectoryOf<TParsed>(t: ConformanceContext<TParsed>, ids: { companyId: string; agentId: string; runId: string }): RunDirectory {
  return runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, ...ids });
}

function everything(run: { stdout: string[]; stderr: string[] }, result: unknown): string {
  return [...run.stdout, ...run.stderr, JSON.stringify(result)].join("\n");
}

/**
 * Issue 11's attacks of a hostile agent on the files the server touches and on other tenants' files,
 * through `execute()`: nothing leaks, nothing outside the agent's own files changes, nothing hangs, and
 * the result says what happened.
 */
export function securityFileScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("an agent that swaps its stdout and stderr for links to server files: refused, nothing of them in the log", async () => {
    const t = get();
    const ids = { companyId: "company-1", agentId: randomUUID(), runId: randomUUID() };
    const run = runDirectoryOf(t, ids);
    const secret = await plantServerSecret(t.cluster.instanceRoot);
    const { result, run: recorded } = await t.run({
      ...ids,
      scenario: {
        chunks: [{ text: '{"type":"system","subtype":"init"}\n' }],
        fileActions: [
          { op: "symlink", path: run.stdout, target: secret.file },
          { op: "symlink", path: run.stderr, target: "/proc/self/environ" },
        ],
        sleepMs: 200,
      },
    });
    expect(result.errorCode).toBe("k8s_agent_output_refused");
    expect(result.errorMessage).toMatch(/symbolic link/);
    const seen = everything(recorded, result);
    expect(seen).not.toContain(secret.content);
    expect(seen).not.toContain("\0");
    expect(await readFile(secret.file, "utf8")).toBe(secret.content);
    await t.expectCleanCluster(ids.agentId);
  });

  it("an agent that puts FIFOs in place of its output files: the run ends (no hang), refused, and is cleaned up", async () => {
    const t = get();
    const ids = { companyId: "company-1", agentId: randomUUID(), runId: randomUUID() };
    const run = runDirectoryOf(t, ids);
    const { result } = await t.run({
      ...ids,
      scenario: {
        chunks: [{ text: '{"type":"system","subtype":"init"}\n' }],
        fileActions: [
          { op: "mkfifo", path: run.stdout },
          { op: "mkfifo", path: run.stderr },
        ],
      },
    });
    expect(result.errorCode).toBe("k8s_agent_output_refused");
    expect(result.errorMessage).toMatch(/FIFO/);
    await t.expectCleanCluster(ids.agentId);
    await expect(lstat(run.dir)).rejects.toThrow(/ENOENT/);
  });

  it("an agent that plants retention-marker links: the server writes its own marker, out of the pod's reach, and overwrites nothing", async () => {
    const t = get();
    const ids = { companyId: "company-1", agentId: randomUUID(), runId: randomUUID() };
    const run = runDirectoryOf(t, ids);
    const victim = await plantServerSecret(t.cluster.instanceRoot);
    const outcomes = await t.recordingPath(ids.agentId, "actions.json");
    const { result } = await t.run({
      ...ids,
      config: { retainRunFilesOnFailureSec: 600 },
      scenario: {
        chunks: [{ text: '{"type":"system","subtype":"init"}\n' }],
        fileActions: [
          { op: "symlink", path: run.retainUntil, target: victim.file },
          { op: "symlink", path: path.join(run.output, "retain-until"), target: victim.file },
        ],
        fileActionsResultTo: outcomes,
        exitCode: 3,
      },
    });
    try {
      expect(result.exitCode).toBe(3);
      const [inRunRoot, inOutput] = JSON.parse(await readFile(outcomes, "utf8")) as FileActionOutcome[];
      // The run directory's top level is not in the pod at all: the agent cannot plant anything there.
      expect(inRunRoot?.ok).toBe(false);
      expect(inOutput?.ok).toBe(true);
      expect(await readFile(victim.file, "utf8")).toBe(victim.content);
      const marker = await lstat(run.retainUntil);
      expect(marker.isFile()).toBe(true);
      expect(Number((await readFile(run.retainUntil, "utf8")).trim())).toBeGreaterThan(Date.now());
    } finally {
      await rm(run.dir, { recursive: true, force: true });
    }
  });

  it("agents of different companies cannot read or write each other's runs, homes or Paperclip's instance files", async () => {
    const t = get();
    const a = { companyId: "company-a", agentId: randomUUID(), runId: randomUUID() };
    const b = { companyId: "company-b", agentId: randomUUID(), runId: randomUUID() };
    const runA = runDirectoryOf(t, a);
    const secret = await plantServerSecret(t.cluster.instanceRoot);
    const promptSecret = `PROMPT-OF-A-${randomUUID()}`;
    const outcomesFile = await t.recordingPath(b.agentId, "actions.json");
    let resultB: Awaited<ReturnType<typeof t.run>> | undefined;
    const { result: resultA, run: recordedA } = await t.run({
      ...a,
      promptPadding: promptSecret,
      scenario: {
        chunks: [{ text: '{"type":"system","subtype":"init"}\n' }],
        fileActions: [{ op: "write", path: path.join(runA.home, "session.json"), data: "A's session" }],
        sleepMs: 1_500,
      },
      during: async (running) => {
        await t.untilStreaming(running);
        resultB = await t.run({
          ...b,
          scenario: {
            fileActions: [
              { op: "read", path: runA.prompt },
              { op: "list", path: runA.dir },
              { op: "read", path: path.join(runA.home, "session.json") },
              { op: "append", path: runA.stdout, data: '{"type":"result","result":"FORGED BY AGENT B"}\n' },
              { op: "list", path: t.cluster.instanceRoot },
              { op: "read", path: secret.file },
              { op: "list", path: path.join(t.cluster.instanceRoot, "workspaces") },
            ],
            fileActionsResultTo: outcomesFile,
          },
        });
      },
    });
    expect(resultB?.result.exitCode).toBe(0);
    const outcomes = JSON.parse(await readFile(outcomesFile, "utf8")) as FileActionOutcome[];
    expect(outcomes).toHaveLength(7);
    const [promptRead, runListed, homeRead, stdoutAppended, rootListed, secretRead, workspacesListed] = outcomes;
    for (const denied of [promptRead, runListed, homeRead, stdoutAppended, secretRead]) {
      expect(denied, `${denied?.op} ${denied?.path}`).toMatchObject({ ok: false });
    }
    // The directories above B's own mounts exist in its pod only as empty mount points (as a container
    // runtime creates them): listing them shows the way to B's mounts and nothing else.
    expect(rootListed?.data ?? "").not.toMatch(/secrets/);
    expect(workspacesListed?.data ?? "").not.toContain(a.agentId);
    expect(JSON.stringify(outcomes)).not.toContain(promptSecret);
    expect(JSON.stringify(outcomes)).not.toContain(secret.content);
    expect(resultA.exitCode).toBe(0);
    expect(recordedA.transcript().join("")).not.toContain("FORGED");
    expect(await readFile(path.join(runA.home, "session.json"), "utf8")).toBe("A's session");
  });

  it("a working directory outside the agent's own workspaces is refused before anything is created", async () => {
    const t = get();
    const other = randomUUID();
    const agentId = randomUUID();
    const linkedWorkspace = await t.cluster.workspace(agentId);
    const linkInside = path.join(linkedWorkspace, "escape");
    await symlink(await t.cluster.workspace(other), linkInside);
    const cases = [
      { cwd: await t.cluster.workspace(other), reason: /not one of this agent's workspaces/ },
      { cwd: t.cluster.instanceRoot, reason: /contains Paperclip's instance root/ },
      { cwd: path.join(t.cluster.instanceRoot, "secrets"), reason: /not one of this agent's workspaces/ },
      { cwd: path.join(t.cluster.sharedRoot, "elsewhere"), reason: /outside Paperclip's instance root/ },
      { cwd: linkInside, reason: /symbolic link/ },
    ];
    for (const { cwd, reason } of cases) {
      const { result } = await t.run({ agentId, workspaceCwd: cwd, scenario: {} });
      expect(result.errorCode, cwd).toBe("k8s_workspace_refused");
      expect(result.errorMessage).toMatch(reason);
      expect(t.leftovers(agentId)).toEqual([]);
    }
  });
}
