import { describe, expect, it } from "vitest";
import type { PodOutcome } from "./agent.ts";
import { buildRunResult, type RunFactsForResult } from "./run-result.ts";

const facts: RunFactsForResult = {
  deadlineExceeded: false,
  timeoutSec: 0,
  cwd: "/workspace",
  workspace: { cwd: null, source: null, strategy: null, workspaceId: null, repoUrl: null, repoRef: null, branchName: null, worktreePath: null, agentHome: null },
  jobName: "job-1",
  namespace: "agents",
  reattached: false,
};
const outcome: PodOutcome = {
  exitCode: 1,
  signal: null,
  reason: "Error",
  // A termination message the agent wrote: raw output, cut mid-token.
  description: 'container agent exited 1, reason Error, message: {"type":"assistant","message":{"content":[{"ty',
  stderrTail: "",
  stdoutLines: 4,
};

describe("buildRunResult", () => {
  it("reports usage on the agent's basis: per run unless the verdict says the session's total", () => {
    const usage = { inputTokens: 10, outputTokens: 2 };
    const finished = { ...outcome, exitCode: 0, description: "container agent exited 0" };
    expect(buildRunResult({ sessionId: "s-1", usage }, finished, facts).usageBasis).toBe("per_run");
    const cumulative = buildRunResult({ sessionId: "s-1", usage, usageBasis: "session_cumulative" }, finished, facts);
    expect(cumulative).toMatchObject({ usage, usageBasis: "session_cumulative" });
  });

  it("makes every error message readable: no terminal escapes, no raw output, nothing twice", () => {
    const result = buildRunResult(
      { sessionId: null, errorCode: "mycli_truncated", errorMessage: "\u001b[31mMyCli stopped\u001b[0m; stderr: boom\nboom\n\u001b[31mboom\u001b[0m" },
      outcome,
      facts,
    );
    expect(result.errorMessage).toBe("MyCli stopped; stderr: boom");
    expect(result.errorCode).toBe("mycli_truncated");
  });

  it("a non-zero exit the agent does not explain is described without the raw termination message", () => {
    const result = buildRunResult({ sessionId: null }, outcome, facts);
    expect(result.errorMessage).toBe("The agent did not succeed: container agent exited 1, reason Error, message [raw output omitted]");
  });

  it("a message made only of escapes or raw output still fails the run, saying so", () => {
    const result = buildRunResult({ sessionId: null, errorMessage: '\u001b[0m{"type":"res' }, { ...outcome, exitCode: 0 }, facts);
    expect(result.errorMessage).toBe("[raw output omitted]");
  });
});
