import { describe, expect, it } from "vitest";
import {
  describeClaudeFailure,
  isClaudeMaxTurnsResult,
  isClaudeUnknownSessionError,
  parseClaudeStreamJson,
} from "@paperclipai/adapter-claude-local/server";
import type { AgentVerdict, PodOutcome } from "paperclip-k8s-runtime";
import { cliFixtureScenarios, readCliFixture, parseStdout } from "paperclip-k8s-runtime/testing";
import { interpretClaude } from "./interpret.ts";
import { createClaudeParser } from "./parse-output.ts";

function verdictOf(scenario: string): AgentVerdict {
  const fixture = readCliFixture("claude", scenario);
  return interpretClaude(parseStdout(createClaudeParser(), fixture.stdout), fixture.outcome);
}

function verdictOfLines(lines: object[], outcome: Partial<PodOutcome> = {}): AgentVerdict {
  const parsed = parseStdout(createClaudeParser(), lines.map((line) => JSON.stringify(line)).join("\n"));
  const failed = { exitCode: 1, signal: null, reason: "Error", description: "container exited 1", stderrTail: "", stdoutLines: lines.length };
  return interpretClaude(parsed, { ...failed, ...outcome });
}

describe("interpretClaude on real CLI output", () => {
  it("agrees with Paperclip's claude_local parser on every fixture", () => {
    for (const scenario of cliFixtureScenarios("claude")) {
      const fixture = readCliFixture("claude", scenario);
      const oracle = parseClaudeStreamJson(fixture.stdout);
      const verdict = verdictOf(scenario);
      expect(verdict.sessionId, scenario).toBe(oracle.sessionId);
      expect(verdict.usage ?? null, scenario).toEqual(oracle.usage);
      expect(verdict.costUsd ?? null, scenario).toBe(oracle.costUsd);
      expect(verdict.summary, scenario).toBe(oracle.summary);
      expect(verdict.model, scenario).toBe(oracle.model || null);
      expect(verdict.resultJson === null ? null : verdict.resultJson?.uuid, scenario).toBe(oracle.resultJson?.uuid ?? null);
      const result = oracle.resultJson;
      if (result !== null) {
        expect(verdict.errorCode === "max_turns_exhausted", scenario).toBe(isClaudeMaxTurnsResult(result));
        expect(verdict.errorCode === "session_unavailable", scenario).toBe(isClaudeUnknownSessionError(result));
        expect(verdict.clearSession === true, scenario).toBe(isClaudeMaxTurnsResult(result) || isClaudeUnknownSessionError(result));
      }
    }
  });

  it.each(["happy", "resume", "tool-error", "no-skip-permissions"])("%s: succeeds with the result text", (scenario) => {
    const verdict = verdictOf(scenario);
    expect(verdict.errorMessage ?? null).toBeNull();
    expect(verdict.errorCode ?? null).toBeNull();
    expect(verdict.summary).toBe("Done. I ran the command and wrote hello to out.txt.");
    expect(verdict.provider).toBe("anthropic");
    expect(verdict.billingType).toBe("api");
    expect(verdict.costUsd).toBeGreaterThan(0);
    expect(verdict.usage?.outputTokens).toBe(39);
  });

  it("happy: reports session, model and per-run usage from the result line", () => {
    const verdict = verdictOf("happy");
    expect(verdict.sessionId).toBe("a89c43b3-6a48-41aa-b7ac-b2cf3169b755");
    expect(verdict.model).toBe("claude-sonnet-4-5");
    expect(verdict.usage).toEqual({ inputTokens: 3572, outputTokens: 39, cachedInputTokens: 0 });
    expect(verdict.costUsd).toBe(0.011301);
    expect(verdict.resultJson?.type).toBe("result");
  });

  it("err500: an API error after the CLI's retries is a transient upstream failure", () => {
    const fixture = readCliFixture("claude", "err500");
    const verdict = verdictOf("err500");
    expect(verdict.errorCode).toBe("llm_api_error");
    expect(verdict.errorFamily).toBe("transient_upstream");
    expect(verdict.retryNotBefore).toBeNull();
    const result = parseClaudeStreamJson(fixture.stdout).resultJson;
    expect(result).not.toBeNull();
    if (result !== null) expect(verdict.errorMessage).toBe(describeClaudeFailure(result));
    expect(verdict.errorMessage).toContain("API Error: 500");
  });

  it("max-turns: fails with max_turns_exhausted and clears the session", () => {
    const verdict = verdictOf("max-turns");
    expect(verdict.errorCode).toBe("max_turns_exhausted");
    expect(verdict.clearSession).toBe(true);
    expect(verdict.errorMessage).toBe("Claude run failed: subtype=error_max_turns: Reached maximum number of turns (1)");
    expect(verdict.resultJson?.stopReason).toBe("max_turns_exhausted");
    expect(verdict.sessionId).toBe("40dbd48e-a6ed-4d12-9ddf-98a5b557ebb2");
  });

  it("resume-bogus-uuid: an unknown session clears the session", () => {
    const verdict = verdictOf("resume-bogus-uuid");
    expect(verdict.errorCode).toBe("session_unavailable");
    expect(verdict.clearSession).toBe(true);
    expect(verdict.errorMessage).toContain("No conversation found with session ID: 00000000-0000-4000-8000-000000000000");
  });

  it("killed-midstream: no result line is a truncated run described by the pod", () => {
    const verdict = verdictOf("killed-midstream");
    expect(verdict.errorCode).toBe("claude_truncated");
    expect(verdict.errorMessage).toContain("container exited 137 (SIGKILL)");
    expect(verdict.sessionId).toBe("95541294-798b-4b5e-b0e5-f126f93d9068");
    expect(verdict.summary).toBe("I'll run the command.");
    expect(verdict.usage ?? null).toBeNull();
    expect(verdict.costUsd ?? null).toBeNull();
  });

  it("empty: an empty reply with 0 output tokens fails as a retryable LLM error (Paperclip calls it success)", () => {
    const verdict = verdictOf("empty");
    expect(verdict.errorCode).toBe("llm_api_error");
    expect(verdict.errorFamily).toBe("transient_upstream");
    expect(verdict.errorMessage).toMatch(/empty reply/);
    expect(verdict.summary).toBe("");
  });
});

describe("interpretClaude on other outcomes", () => {
  const init = { type: "system", subtype: "init", session_id: "s-1", model: "claude-opus-4-8", apiKeySource: "none" };
  const apiError = (status: number, text: string) => ({
    type: "result",
    subtype: "success",
    is_error: true,
    api_error_status: status,
    result: text,
    session_id: "s-1",
    usage: { input_tokens: 0, output_tokens: 0 },
  });

  it("429 is provider quota, with the retry time the CLI states", () => {
    const verdict = verdictOfLines([init, apiError(429, "Claude AI usage limit reached|1893456000")]);
    expect(verdict.errorCode).toBe("llm_api_error");
    expect(verdict.errorFamily).toBe("provider_quota");
    expect(verdict.retryNotBefore).toBe("2030-01-01T00:00:00.000Z");
    expect(verdict.billingType).toBe("subscription");
  });

  it("529 overloaded is transient; a 400 has no retry family", () => {
    expect(verdictOfLines([init, apiError(529, "API Error: 529 Overloaded")]).errorFamily).toBe("transient_upstream");
    const badRequest = verdictOfLines([init, apiError(400, "API Error: 400 invalid request")]);
    expect(badRequest.errorCode).toBe("llm_api_error");
    expect(badRequest.errorFamily).toBeNull();
  });

  it("a success result with a non-zero exit still fails, saying why", () => {
    const success = { type: "result", subtype: "success", is_error: false, result: "done", usage: { output_tokens: 3 } };
    const verdict = verdictOfLines([init, success], { exitCode: 2, description: "container exited 2" });
    expect(verdict.errorMessage).toBe("Claude finished its turn but exited with code 2: container exited 2");
    expect(verdict.summary).toBe("done");
    expect(verdictOfLines([init, success], { exitCode: 0 }).errorMessage ?? null).toBeNull();
  });

  it("a CLI that exits non-zero before any output failed to start: its own first stderr line, without colours", () => {
    const verdict = verdictOfLines([], { stderrTail: "\n\u001b[31mError: EACCES: permission denied, mkdir '/home/agent/.claude'\u001b[0m\n    at x\n" });
    expect(verdict.errorCode).toBe("agent_start_failed");
    expect(verdict.errorMessage).toBe("Error: EACCES: permission denied, mkdir '/home/agent/.claude'");
    expect(verdict.sessionId).toBeNull();
    expect(verdictOfLines([], { stderrTail: "" }).errorMessage).toBe("Claude exited with code 1 before printing anything, and said nothing on stderr");
  });

  it("output cut short after it started is truncated, with the stderr line", () => {
    const verdict = verdictOfLines([init], { stderrTail: "\u001b[31mError: socket hang up\u001b[0m\n" });
    expect(verdict.errorCode).toBe("claude_truncated");
    expect(verdict.errorMessage).toBe("Claude output ended without a result line: container exited 1; stderr: Error: socket hang up");
    // Killed before printing anything is not a refused start: the kill is the cause.
    const killed = verdictOfLines([], { exitCode: 137, signal: "SIGKILL", description: "container exited 137 (SIGKILL)" });
    expect(killed.errorCode).toBe("claude_truncated");
  });

  it("401, 403 or refused-key wording is llm_auth_error, never retried", () => {
    const unauthorized = verdictOfLines([init, apiError(401, 'API Error: 401 {"type":"error","error":{"type":"authentication_error"')]);
    expect(unauthorized.errorCode).toBe("llm_auth_error");
    expect(unauthorized.errorFamily).toBeNull();
    expect(unauthorized.retryNotBefore).toBeNull();
    expect(unauthorized.errorMessage).toMatch(/^Claude could not authenticate with the model provider \(HTTP 401: API Error: 401 .*\)\. Check ANTHROPIC_API_KEY/);
    expect(verdictOfLines([init, apiError(403, "API Error: 403 forbidden")]).errorCode).toBe("llm_auth_error");
    const noStatus = { type: "result", subtype: "success", is_error: true, result: "Invalid API key · Please run /login", session_id: "s-1" };
    expect(verdictOfLines([init, noStatus]).errorCode).toBe("llm_auth_error");
  });

  it("an unknown session reported only on stderr still clears the session", () => {
    const verdict = verdictOfLines([], { stderrTail: "No conversation found with session ID: abc\n" });
    expect(verdict.errorCode).toBe("session_unavailable");
    expect(verdict.clearSession).toBe(true);
  });

  it("a refusal is a model_refusal failure", () => {
    const refusal = { type: "result", subtype: "success", is_error: false, stop_reason: "refusal", result: "I can't help with that." };
    const verdict = verdictOfLines([init, refusal], { exitCode: 0 });
    expect(verdict.errorCode).toBe("claude_refusal");
    expect(verdict.errorFamily).toBe("model_refusal");
  });

  it("Bedrock model ids are billed as metered AWS usage", () => {
    const bedrockInit = { ...init, model: "us.anthropic.claude-opus-4-8-v1", apiKeySource: "none" };
    const verdict = verdictOfLines([bedrockInit, { type: "result", subtype: "success", result: "ok", usage: { output_tokens: 1 } }], {
      exitCode: 0,
    });
    expect(verdict.biller).toBe("aws_bedrock");
    expect(verdict.billingType).toBe("metered_api");
  });
});
