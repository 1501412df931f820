import { expect, it } from "vitest";
import type { ConformanceContext, ConformanceOptions } from "../conformance-context.ts";

/** Recorded CLI runs replayed in a pod: execute()'s result must agree with the agent's own reading of them. */
export function transcriptScenarios<TParsed>(options: ConformanceOptions<TParsed>, get: () => ConformanceContext<TParsed>): void {
  it("happy path: streams every line, succeeds, reports session, usage and cost, leaves nothing behind", async () => {
    const t = get();
    const { transcripts } = t.options;
    const { result, run, agentId } = await t.run({ scenario: { transcript: t.transcript(transcripts.happy) } });
    const expected = t.expectedVerdict(transcripts.happy);
    expect(result.errorMessage ?? null).toBeNull();
    expect(result.exitCode).toBe(0);
    expect(result.timedOut).toBe(false);
    expect(result.sessionId).toBe(expected.sessionId);
    expect(result.sessionParams?.sessionId).toBe(expected.sessionId);
    expect(result.usage).toEqual(expected.usage ?? undefined);
    expect(result.costUsd ?? null).toBe(expected.costUsd ?? null);
    expect(result.summary ?? null).toBe(expected.summary ?? null);
    expect(result.usageBasis).toBe("per_run");
    expect(run.transcript().join("")).toBe(t.fixture(transcripts.happy).stdout);
    expect(run.dispatched).toBe(1);
    expect(run.cancellationReady).toBe(1);
    expect(run.meta[0]?.adapterType).toBe(t.agent.type);
    expect(run.progress.length).toBeGreaterThan(0);
    expect(run.progress.every((update) => update.phase === "adapter_startup" && /^Pod \S+: phase=/.test(update.message))).toBe(true);
    await t.expectCleanCluster(agentId);
  });

  it("resume: passes the saved session to the CLI and reports the resumed session", async () => {
    const t = get();
    const { transcripts } = t.options;
    const sessionId = t.expectedVerdict(transcripts.happy).sessionId;
    const agentId = crypto.randomUUID();
    const cwd = await t.cluster.workspace(agentId);
    const recording = await t.recordingPath(agentId, "resume.json");
    const { result } = await t.run({
      agentId,
      workspaceCwd: cwd,
      sessionParams: { sessionId, cwd },
      scenario: { transcript: t.transcript(transcripts.resume), recordInvocationTo: recording },
    });
    const invocation = await t.readRecording(recording);
    expect(sessionId).toBeTruthy();
    expect(invocation.argv).toContain(sessionId);
    expect(invocation.cwd).toBe(cwd);
    expect(result.exitCode).toBe(0);
    expect(result.sessionId).toBe(t.expectedVerdict(transcripts.resume).sessionId);
  });

  it("unknown session: session_unavailable and the session is cleared", async () => {
    const t = get();
    const agentId = crypto.randomUUID();
    const cwd = await t.cluster.workspace(agentId);
    const { result } = await t.run({
      agentId,
      workspaceCwd: cwd,
      sessionParams: { sessionId: "00000000-0000-4000-8000-000000000000", cwd },
      scenario: { transcript: t.transcript(t.options.transcripts.unknownSession) },
    });
    expect(result.errorCode).toBe("session_unavailable");
    expect(result.clearSession).toBe(true);
    expect(result.sessionParams ?? null).toBeNull();
  });

  const turnLimit = options.transcripts.turnLimit;
  // A CLI whose output has no turn-limit marker (opencode's step limit leaves none) has nothing to check here.
  if (options.agent.capabilities.reportsTurnLimit && turnLimit) it("turn limit: clears the session", async () => {
    const t = get();
    const { result } = await t.run({ scenario: { transcript: t.transcript(turnLimit) } });
    const expected = t.expectedVerdict(turnLimit);
    expect(result.clearSession).toBe(true);
    expect(result.errorCode ?? null).toBe(expected.errorCode ?? null);
  });

  it("API error: failed with the provider's error family", async () => {
    const t = get();
    const { apiError } = t.options.transcripts;
    const { result } = await t.run({ scenario: { transcript: t.transcript(apiError) } });
    const expected = t.expectedVerdict(apiError);
    expect(result.exitCode).toBe(t.fixture(apiError).outcome.exitCode);
    expect(result.errorCode).toBe(expected.errorCode);
    expect(result.errorFamily ?? null).toBe(expected.errorFamily ?? null);
    expect(result.errorMessage).toBeTruthy();
  });

  it("empty reply: reported as the agent reads it", async () => {
    const t = get();
    const { empty } = t.options.transcripts;
    const { result } = await t.run({ scenario: { transcript: t.transcript(empty) } });
    const expected = t.expectedVerdict(empty);
    expect(result.errorCode ?? null).toBe(expected.errorCode ?? null);
    expect(result.errorFamily ?? null).toBe(expected.errorFamily ?? null);
  });

  it("killed mid-stream: truncated, with the kill in words", async () => {
    const t = get();
    const { result, run } = await t.run({ scenario: { transcript: t.transcript(t.options.transcripts.killedMidstream) } });
    expect(result.errorCode).toBe(t.options.truncatedErrorCode);
    expect(result.exitCode).toBe(137);
    expect(result.errorMessage).toMatch(/137/);
    expect(result.errorMessage).toMatch(/SIGKILL/);
    expect(run.transcript().join("")).toBe(t.fixture(t.options.transcripts.killedMidstream).stdout);
  });
}
