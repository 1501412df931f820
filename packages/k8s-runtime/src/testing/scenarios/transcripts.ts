import { expect, it } from "vitest";
import type { ConformanceContext, ConformanceOptions } from "../conformance-context.ts";
import { verdictMismatches } from "../fixture-verdict.ts";

/**
 * Recorded CLI runs replayed in a pod: execute()'s result must agree with the verdict stored beside each
 * fixture (Paperclip's own parser and the recorded exit code), never with the agent's own reading.
 */
export function transcriptScenarios<TParsed>(options: ConformanceOptions<TParsed>, get: () => ConformanceContext<TParsed>): void {
  it("happy path: streams every line, succeeds, reports session, usage and cost, leaves nothing behind", async () => {
    const t = get();
    const { transcripts } = t.options;
    const { result, run, agentId } = await t.run({ scenario: { transcript: t.transcript(transcripts.happy) } });
    const expected = t.expectedVerdict(transcripts.happy);
    expect(expected.succeeded).toBe(true);
    expect(verdictMismatches(result, expected)).toEqual([]);
    expect(result.errorMessage ?? null).toBeNull();
    expect(result.timedOut).toBe(false);
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
    expect(verdictMismatches(result, t.expectedVerdict(transcripts.resume))).toEqual([]);
  });

  it("unknown session: session_unavailable and the session is cleared", async () => {
    const t = get();
    const { unknownSession } = t.options.transcripts;
    const agentId = crypto.randomUUID();
    const cwd = await t.cluster.workspace(agentId);
    const { result } = await t.run({
      agentId,
      workspaceCwd: cwd,
      sessionParams: { sessionId: "00000000-0000-4000-8000-000000000000", cwd },
      scenario: { transcript: t.transcript(unknownSession) },
    });
    const expected = t.expectedVerdict(unknownSession);
    expect(expected).toMatchObject({ errorCode: "session_unavailable", clearSession: true });
    expect(verdictMismatches(result, expected)).toEqual([]);
    expect(result.sessionParams ?? null).toBeNull();
  });

  const turnLimit = options.transcripts.turnLimit;
  // A CLI whose output has no turn-limit marker (opencode's step limit leaves none) has nothing to check here.
  if (options.agent.capabilities.reportsTurnLimit && turnLimit) it("turn limit: clears the session", async () => {
    const t = get();
    const { result } = await t.run({ scenario: { transcript: t.transcript(turnLimit) } });
    const expected = t.expectedVerdict(turnLimit);
    expect(expected.clearSession).toBe(true);
    expect(verdictMismatches(result, expected)).toEqual([]);
  });

  it("API error: failed with the provider's error family", async () => {
    const t = get();
    const { apiError } = t.options.transcripts;
    const { result } = await t.run({ scenario: { transcript: t.transcript(apiError) } });
    const expected = t.expectedVerdict(apiError);
    expect(expected).toMatchObject({ succeeded: false, errorCode: "llm_api_error" });
    expect(verdictMismatches(result, expected)).toEqual([]);
    expect(result.errorMessage).toBeTruthy();
  });

  it("empty reply: a retryable LLM error, although the CLI exits 0", async () => {
    const t = get();
    const { empty } = t.options.transcripts;
    const { result } = await t.run({ scenario: { transcript: t.transcript(empty) } });
    const expected = t.expectedVerdict(empty);
    expect(expected).toMatchObject({ exitCode: 0, succeeded: false, errorCode: "llm_api_error", errorFamily: "transient_upstream" });
    expect(verdictMismatches(result, expected)).toEqual([]);
  });

  it("killed mid-stream: truncated, with the kill in words", async () => {
    const t = get();
    const { killedMidstream } = t.options.transcripts;
    const { result, run } = await t.run({ scenario: { transcript: t.transcript(killedMidstream) } });
    const expected = t.expectedVerdict(killedMidstream);
    expect(expected).toMatchObject({ exitCode: 137, errorCode: t.options.truncatedErrorCode });
    expect(verdictMismatches(result, expected)).toEqual([]);
    expect(result.errorMessage).toMatch(/137/);
    expect(result.errorMessage).toMatch(/SIGKILL/);
    expect(run.transcript().join("")).toBe(t.fixture(killedMidstream).stdout);
  });

  it("refused start: a CLI that exits non-zero before any output is agent_start_failed with its own first stderr line", async () => {
    const t = get();
    const refusal = "\u001b[91m\u001b[1mError: \u001b[0mEACCES: permission denied, mkdir '/home/agent/.cache'";
    const { result } = await t.run({
      scenario: { chunks: [{ stream: "stderr", text: `\n${refusal}\n${refusal}\n    at start (cli.js:1:1)\n` }], exitCode: 2 },
    });
    expect(result.exitCode).toBe(2);
    expect(result.errorCode).toBe("agent_start_failed");
    expect(result.errorMessage).toBe("Error: EACCES: permission denied, mkdir '/home/agent/.cache'");
    expect(result.sessionId ?? null).toBeNull();
  });
}
