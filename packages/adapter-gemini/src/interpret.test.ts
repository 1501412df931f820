import { describe, expect, it } from "vitest";
import { parseGeminiJsonl } from "@paperclipai/adapter-gemini-local/server";
import type { AgentVerdict, PodOutcome } from "paperclip-k8s-runtime";
import { cliFixtureScenarios, parseStdout, readCliFixture } from "paperclip-k8s-runtime/testing";
import { interpretGemini } from "./interpret.ts";
import { createGeminiParser } from "./parse-output.ts";

function verdictOf(scenario: string): AgentVerdict {
  const fixture = readCliFixture("gemini", scenario);
  return interpretGemini(parseStdout(createGeminiParser(), fixture.stdout), fixture.outcome, fixture.facts);
}

const now = new Date("2026-12-07T19:00:00.000Z");
const fresh = { model: null, resumeSessionId: null };
const exited1: PodOutcome = { exitCode: 1, signal: null, reason: "Error", description: "container exited 1", stderrTail: "", stdoutLines: 3 };

/** A run that printed `init` and then the given `result` error. */
function verdictOfResultError(error: object, outcome: Partial<PodOutcome> = {}): AgentVerdict {
  const lines = [{ type: "init", session_id: "s-1", model: "auto" }, { type: "result", status: "error", error, stats: { input_tokens: 5, output_tokens: 0 } }];
  const parsed = parseStdout(createGeminiParser(), lines.map((line) => JSON.stringify(line)).join("\n"));
  return interpretGemini(parsed, { ...exited1, ...outcome }, fresh, now);
}

const apiError = (code: number, message: string, extra = "") =>
  ({ type: "unknown", message: `[API Error: {"error":{"code":${code},"message":"${message}","status":"X"${extra}}}]` });

describe("interpretGemini on real CLI output", () => {
  it("reads session, usage, cost and summary as Paperclip's gemini_local parser does, on every fixture", () => {
    for (const scenario of cliFixtureScenarios("gemini")) {
      const fixture = readCliFixture("gemini", scenario);
      const oracle = parseGeminiJsonl(fixture.stdout);
      const verdict = verdictOf(scenario);
      expect(verdict.sessionId, scenario).toBe(oracle.sessionId);
      expect(verdict.usage, scenario).toEqual(oracle.usage);
      expect(verdict.costUsd, scenario).toBe(oracle.costUsd);
      expect(verdict.summary, scenario).toBe(oracle.summary);
    }
  });

  it("happy: succeeds, billed by google as api, the model from the init line", () => {
    const verdict = verdictOf("happy");
    expect(verdict).toMatchObject({ provider: "google", biller: "google", billingType: "api", model: "gemini-2.5-flash" });
    expect(verdict.errorCode ?? null).toBeNull();
    expect(verdict.usage?.outputTokens).toBe(27);
    const happy = readCliFixture("gemini", "happy");
    const parsed = parseStdout(createGeminiParser(), happy.stdout);
    expect(interpretGemini(parsed, happy.outcome, { ...fresh, model: "gemini-2.5-pro" }).model).toBe("gemini-2.5-pro");
    expect(interpretGemini(parsed, happy.outcome, fresh).model).toBe("gemini-2.5-flash");
  });

  it("resume-bogus-id: session_unavailable with the CLI's own words, the session cleared", () => {
    const verdict = verdictOf("resume-bogus-id");
    expect(verdict).toMatchObject({ errorCode: "session_unavailable", clearSession: true });
    expect(verdict.errorMessage).toBe('Gemini session is unavailable: Error resuming session: Invalid session identifier "00000000-0000-4000-8000-000000000000".');
    // Only a run asked to resume can have lost its session.
    const fixture = readCliFixture("gemini", "resume-bogus-id");
    expect(interpretGemini(parseStdout(createGeminiParser(), fixture.stdout), fixture.outcome, fresh).errorCode).toBe("agent_start_failed");
  });

  it("max-turns: max_turns_exhausted (exit 53), the session cleared", () => {
    expect(verdictOf("max-turns")).toMatchObject({ errorCode: "max_turns_exhausted", clearSession: true, errorMessage: expect.stringMatching(/^Reached max session turns/) });
  });

  it("err500 / error401: the API's status and message, without the raw body", () => {
    expect(verdictOf("err500")).toMatchObject({ errorCode: "llm_api_error", errorFamily: "transient_upstream", errorMessage: "Gemini API error (HTTP 500): Internal server error" });
    const refused = verdictOf("error401");
    expect(refused).toMatchObject({ errorCode: "llm_auth_error", errorFamily: null, retryNotBefore: null });
    expect(refused.errorMessage).toBe("Gemini CLI could not authenticate with the model provider (HTTP 401: invalid x-api-key). Check GEMINI_API_KEY (or GOOGLE_API_KEY and the Vertex AI settings), as the pod gets it.");
  });

  it("err429: provider_quota from the CLI's rate-limit text, which carries no status (exit 173 = 429 mod 256)", () => {
    const verdict = verdictOf("err429");
    expect(verdict).toMatchObject({ errorCode: "llm_api_error", errorFamily: "provider_quota", retryNotBefore: null });
    expect(verdict.errorMessage).toMatch(/^Gemini API error: Number of requests has exceeded your rate limit\nPlease wait/);
  });

  it("empty: the CLI exits 0 after an empty response, which is still an llm_api_error to retry", () => {
    expect(readCliFixture("gemini", "empty").outcome.exitCode).toBe(0);
    expect(verdictOf("empty")).toMatchObject({ errorCode: "llm_api_error", errorFamily: "transient_upstream" });
  });

  it("killed-midstream: gemini_truncated with the pod's termination", () => {
    const verdict = verdictOf("killed-midstream");
    expect(verdict.errorCode).toBe("gemini_truncated");
    expect(verdict.errorMessage).toMatch(/^Gemini CLI output ended without a result line: container exited 137 \(SIGKILL\)/);
  });

  it("tool-error: a failed shell command is the model's business, not a failed run", () => {
    expect(verdictOf("tool-error").errorCode ?? null).toBeNull();
  });
});

describe("interpretGemini on API errors", () => {
  it("429: provider_quota, retryNotBefore from the API's retryDelay", () => {
    const verdict = verdictOfResultError(apiError(429, "Resource has been exhausted", ',"details":[{"retryDelay":"30s"}]'));
    expect(verdict).toMatchObject({ errorCode: "llm_api_error", errorFamily: "provider_quota", retryNotBefore: "2026-12-07T19:00:30.000Z" });
  });

  it("403 is an auth failure; 400 an API error the scheduler does not retry; text without a body is kept whole", () => {
    expect(verdictOfResultError(apiError(403, "Permission denied")).errorCode).toBe("llm_auth_error");
    expect(verdictOfResultError(apiError(400, "Invalid model"))).toMatchObject({ errorCode: "llm_api_error", errorFamily: null, errorMessage: "Gemini API error (HTTP 400): Invalid model" });
    expect(verdictOfResultError({ type: "unknown", message: "socket hang up" })).toMatchObject({ errorCode: "llm_api_error", errorMessage: "Gemini API error: socket hang up" });
  });

  it("a CLI that refuses to start: agent_start_failed with its first stderr line", () => {
    const parsed = parseStdout(createGeminiParser(), "");
    const verdict = interpretGemini(parsed, { ...exited1, exitCode: 41, stdoutLines: 0, stderrTail: "\u001b[33mWarning: 256-color\u001b[0m\nInvalid auth method selected.\n" }, fresh);
    expect(verdict.errorCode).toBe("agent_start_failed");
  });
});
