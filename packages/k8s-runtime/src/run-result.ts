import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import type { AgentVerdict, PodOutcome } from "./agent.ts";
import { readableMessage } from "./agent-kit/readable-message.ts";
import type { WorkspaceContext } from "./run-env.ts";

export interface RunFactsForResult {
  /** The Job failed with `DeadlineExceeded` (`timeoutSec`). */
  deadlineExceeded: boolean;
  timeoutSec: number;
  cwd: string;
  workspace: WorkspaceContext;
  jobName: string;
  namespace: string;
  reattached: boolean;
}

/**
 * Step 12: the agent's meaning plus the runtime's facts. Precedence: a deadline is a timeout whatever
 * the output says; then the agent's own error; then a non-zero exit in words. The message is made readable here, once for every agent:
 * its text comes from the agent (stderr, output, termination message).
 */
export function buildRunResult(verdict: AgentVerdict, outcome: PodOutcome, facts: RunFactsForResult): AdapterExecutionResult {
  const sessionParams =
    verdict.sessionId && !verdict.clearSession
      ? {
          sessionId: verdict.sessionId,
          cwd: facts.cwd,
          ...(facts.workspace.workspaceId ? { workspaceId: facts.workspace.workspaceId } : {}),
          ...(facts.workspace.repoUrl ? { repoUrl: facts.workspace.repoUrl } : {}),
          ...(facts.workspace.repoRef ? { repoRef: facts.workspace.repoRef } : {}),
        }
      : null;
  let errorCode = verdict.errorCode ?? null;
  let errorMessage = verdict.errorMessage ?? null;
  if (facts.deadlineExceeded) {
    errorCode = "timeout";
    errorMessage = `The run exceeded timeoutSec=${facts.timeoutSec}; Kubernetes stopped Job ${facts.namespace}/${facts.jobName} (DeadlineExceeded): ${outcome.description}`;
  } else if (!errorMessage && outcome.exitCode !== 0) {
    errorMessage = `The agent did not succeed: ${outcome.description}`;
  }
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    timedOut: facts.deadlineExceeded,
    errorCode,
    errorMessage: errorMessage === null ? null : readableMessage(errorMessage),
    ...(verdict.errorFamily ? { errorFamily: verdict.errorFamily } : {}),
    ...(verdict.retryNotBefore ? { retryNotBefore: verdict.retryNotBefore } : {}),
    usage: verdict.usage ?? undefined,
    usageBasis: verdict.usageBasis ?? "per_run",
    sessionId: sessionParams ? verdict.sessionId : null,
    sessionParams,
    sessionDisplayId: sessionParams ? verdict.sessionId : null,
    clearSession: verdict.clearSession ?? false,
    provider: verdict.provider ?? null,
    biller: verdict.biller ?? null,
    model: verdict.model ?? null,
    billingType: verdict.billingType ?? null,
    costUsd: verdict.costUsd ?? null,
    summary: verdict.summary ?? null,
    resultJson: {
      ...(verdict.resultJson ?? {}),
      kubernetes: {
        namespace: facts.namespace,
        jobName: facts.jobName,
        reattached: facts.reattached,
        termination: outcome.description,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
      },
    },
  };
}
