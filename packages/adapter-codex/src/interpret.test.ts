import type { AgentVerdict, PodOutcome } from "paperclip-k8s-runtime";
import { parseStdout, readCliFixture } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { interpretCodex } from "./interpret.ts";
import { createCodexParser } from "./parse-output.ts";

const exited = (exitCode: number, stderrTail = "", stdoutLines = 3): PodOutcome => ({
  exitCode,
  signal: null,
  reason: exitCode === 0 ? "Completed" : "Error",
  description: `container exited ${exitCode}`,
  stderrTail,
  stdoutLines,
});
const now = new Date("2026-12-07T09:00:00.000Z");
const thread = { type: "thread.started", thread_id: "01a251eb-7f56-7100-9b64-cbaa4e73d0fa" };

function verdictOf(lines: object[], outcome: PodOutcome, model: string | null = null): AgentVerdict {
  const parsed = parseStdout(createCodexParser(), lines.map((line) => JSON.stringify(line)).join("\n"));
  return interpretCodex(parsed, outcome, { model, resumeSessionId: null }, now);
}

const failedTurn = (message: string) => [thread, { type: "turn.started" }, { type: "error", message }, { type: "turn.failed", error: { message } }];

describe("interpretCodex", () => {
  it("a finished run: thread, usage, summary, the requested model, OpenAI as provider, no cost", () => {
    const fixture = readCliFixture("codex", "happy");
    const verdict = interpretCodex(parseStdout(createCodexParser(), fixture.stdout), fixture.outcome, { model: "gpt-5.4", resumeSessionId: null });
    expect(verdict).toMatchObject({ model: "gpt-5.4", provider: "openai", biller: "openai", costUsd: null, summary: expect.stringMatching(/^Done\./) });
    expect(verdict.errorCode ?? null).toBeNull();
  });

  it("HTTP 429 and usage limits are provider quota, with the retry time when Codex names one", () => {
    const limited = verdictOf(failedTurn("exceeded retry limit, last status: 429 Too Many Requests, try again in 30 seconds"), exited(1));
    expect(limited).toMatchObject({ errorCode: "llm_api_error", errorFamily: "provider_quota", retryNotBefore: "2026-12-07T09:00:30.000Z" });
    const usage = verdictOf(failedTurn("You've hit your usage limit for GPT-5. Switch to another model now, or try again at 3:05 PM."), exited(1));
    expect(usage).toMatchObject({ errorCode: "llm_api_error", errorFamily: "provider_quota", retryNotBefore: "2026-12-07T15:05:00.000Z" });
  });

  it("HTTP 403 and refused-key wording are llm_auth_error without a family; other API errors have none", () => {
    expect(verdictOf(failedTurn("unexpected status 403 Forbidden: no access"), exited(1))).toMatchObject({ errorCode: "llm_auth_error", errorFamily: null });
    expect(verdictOf(failedTurn("unexpected status 400 Bad Request: model not supported"), exited(1))).toMatchObject({
      errorCode: "llm_api_error",
      errorFamily: null,
      errorMessage: "unexpected status 400 Bad Request: model not supported",
    });
    expect(verdictOf(failedTurn("unexpected status 502 Bad Gateway"), exited(1))).toMatchObject({ errorFamily: "transient_upstream" });
  });

  it("a fatal error event without a turn fails the run as an API error; the same event in a killed run is truncation", () => {
    const lines = [thread, { type: "error", message: "stream disconnected before completion" }];
    expect(verdictOf(lines, exited(1))).toMatchObject({ errorCode: "llm_api_error", errorMessage: "stream disconnected before completion" });
    const killed: PodOutcome = { ...exited(137), signal: "SIGKILL", description: "container exited 137 (SIGKILL), reason OOMKilled" };
    expect(verdictOf([...lines.slice(0, 1), { type: "turn.started" }, { type: "error", message: "Reconnecting... 1/5 (stream closed)" }], killed)).toMatchObject({
      errorCode: "codex_truncated",
      errorMessage: expect.stringMatching(/OOMKilled/),
    });
  });

  it("an unknown thread only when no thread started: stale-rollout noise about other threads never means that", () => {
    const noise = "2026-12-07T09:00:00Z ERROR codex_core::rollout::list: state db missing rollout path for thread 0199";
    const verdict = verdictOf([thread, { type: "turn.started" }, { type: "turn.completed", usage: { output_tokens: 3 } }, { type: "item.completed", item: { type: "agent_message", text: "ok" } }], exited(0, noise));
    expect(verdict.errorCode ?? null).toBeNull();
    const crashed = verdictOf([thread, { type: "turn.started" }], exited(1, `${noise}\nError: boom`));
    expect(crashed.errorCode).toBe("codex_truncated");
    expect(crashed.clearSession ?? false).toBe(false);
    const unknown = verdictOf([], exited(1, "Error: thread/resume: thread/resume failed: no rollout found for thread id abc (code -32600)", 0));
    expect(unknown).toMatchObject({ errorCode: "session_unavailable", clearSession: true, sessionId: null });
  });

  it("a refused start is agent_start_failed with Codex's own first stderr line", () => {
    const fixture = readCliFixture("codex", "codex-home-missing");
    const verdict = interpretCodex(parseStdout(createCodexParser(), fixture.stdout), fixture.outcome, { model: null, resumeSessionId: null });
    expect(verdict).toMatchObject({ errorCode: "agent_start_failed", errorMessage: expect.stringMatching(/CODEX_HOME points to .* does not exist/) });
  });
});
