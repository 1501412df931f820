import { describe, expect, it } from "vitest";
import { isOpenCodeUnknownSessionError, parseOpenCodeJsonl } from "@paperclipai/adapter-opencode-local/server";
import type { AgentVerdict, PodOutcome } from "paperclip-k8s-runtime";
import { cliFixtureScenarios, readCliFixture, parseStdout } from "paperclip-k8s-runtime/testing";
import { interpretOpenCode } from "./interpret.ts";
import { createOpenCodeParser } from "./parse-output.ts";

function verdictOf(scenario: string): AgentVerdict {
  const fixture = readCliFixture("opencode", scenario);
  return interpretOpenCode(parseStdout(createOpenCodeParser(), fixture.stdout), fixture.outcome, { ...fixture.facts, model: "mock/mock-model" });
}

const failedOutcome: PodOutcome = { exitCode: 1, signal: null, reason: "Error", description: "container exited 1", stderrTail: "", stdoutLines: 0 };
const now = new Date("2026-11-24T09:00:00.000Z");

function verdictOfLines(lines: object[], outcome: Partial<PodOutcome> = {}): AgentVerdict {
  const parsed = parseStdout(createOpenCodeParser(), lines.map((line) => JSON.stringify(line)).join("\n"));
  return interpretOpenCode(parsed, { ...failedOutcome, stdoutLines: lines.length, ...outcome }, { model: null, resumeSessionId: null }, now);
}

describe("interpretOpenCode on real CLI output", () => {
  it("agrees with Paperclip's opencode_local parser on every fixture", () => {
    for (const scenario of cliFixtureScenarios("opencode")) {
      const fixture = readCliFixture("opencode", scenario);
      const oracle = parseOpenCodeJsonl(fixture.stdout);
      const verdict = verdictOf(scenario);
      expect(verdict.sessionId, scenario).toBe(oracle.sessionId);
      expect(verdict.usage, scenario).toEqual(oracle.usage);
      expect(verdict.costUsd, scenario).toBe(oracle.costUsd);
      expect(verdict.summary, scenario).toBe(oracle.summary);
      if (oracle.errorMessage !== null) expect(verdict.errorMessage, scenario).toBe(oracle.errorMessage);
      const failed = fixture.outcome.exitCode !== 0 || oracle.errorMessage !== null;
      const unknownSession = failed && isOpenCodeUnknownSessionError(fixture.stdout, fixture.stderr);
      expect(verdict.errorCode === "session_unavailable", scenario).toBe(unknownSession);
      expect(verdict.clearSession === true, scenario).toBe(unknownSession);
    }
  });

  it.each(["happy", "resume", "max-steps"])("%s: succeeds with the joined reply text", (scenario) => {
    const verdict = verdictOf(scenario);
    expect(verdict.errorMessage ?? null).toBeNull();
    expect(verdict.errorCode ?? null).toBeNull();
    expect(verdict.summary).toMatch(/^I'll run the command\.\n\n/);
    expect(verdict.provider).toBe("mock");
    expect(verdict.model).toBe("mock/mock-model");
  });

  it("happy: sums tokens over both steps", () => {
    const verdict = verdictOf("happy");
    expect(verdict.sessionId).toBe("ses_df30babd8ffeFzKmLN3igMJ9Wv");
    expect(verdict.usage).toEqual({ inputTokens: 2450 + 2529, outputTokens: 26 + 13, cachedInputTokens: 0 });
    expect(verdict.costUsd).toBe(0);
  });

  it("err500: the error line is a transient upstream failure", () => {
    const verdict = verdictOf("err500");
    expect(verdict.errorCode).toBe("llm_api_error");
    expect(verdict.errorFamily).toBe("transient_upstream");
    expect(verdict.retryNotBefore).toBeNull();
    expect(verdict.errorMessage).toBe("The server had an error while processing your request.");
  });

  it("bad-model: an error without a status fails without a retry family", () => {
    const verdict = verdictOf("bad-model");
    expect(verdict.errorCode).toBe("llm_api_error");
    expect(verdict.errorFamily).toBeNull();
    expect(verdict.errorMessage).toBe("Unexpected server error. Check server logs for details.");
  });

  it("resume-bogus-id: 'Session not found' on coloured stderr clears the session", () => {
    const verdict = verdictOf("resume-bogus-id");
    expect(verdict.errorCode).toBe("session_unavailable");
    expect(verdict.clearSession).toBe(true);
    expect(verdict.errorMessage).toBe("OpenCode session is unavailable: Error: Session not found");
    expect(verdict.sessionId).toBeNull();
  });

  it("killed-midstream: no final stop step is a truncated run described by the pod", () => {
    const verdict = verdictOf("killed-midstream");
    expect(verdict.errorCode).toBe("opencode_truncated");
    expect(verdict.errorMessage).toBe("OpenCode output ended without its final step: container exited 137 (SIGKILL)");
    expect(verdict.summary).toBe("I'll run the command.");
  });

  it("empty: an empty reply fails as a retryable LLM error (Paperclip calls it success)", () => {
    const verdict = verdictOf("empty");
    expect(verdict.errorCode).toBe("llm_api_error");
    expect(verdict.errorFamily).toBe("transient_upstream");
    expect(verdict.errorMessage).toMatch(/empty reply/);
  });
});

describe("interpretOpenCode on other outcomes", () => {
  const apiError = (statusCode: number, headers: Record<string, string> = {}) => ({
    type: "error",
    sessionID: "ses_1",
    error: { name: "APIError", data: { message: `HTTP ${statusCode}`, statusCode, isRetryable: false, responseHeaders: headers } },
  });
  const stop = {
    type: "step_finish",
    sessionID: "ses_1",
    part: { reason: "stop", tokens: { input: 5, output: 2, reasoning: 3, cache: { read: 7, write: 1 } }, cost: 0.25 },
  };

  it("429 is provider quota, retried after the provider's retry-after", () => {
    const verdict = verdictOfLines([apiError(429, { "retry-after": "30" })]);
    expect(verdict.errorFamily).toBe("provider_quota");
    expect(verdict.retryNotBefore).toBe("2026-11-24T09:00:30.000Z");
    const dated = verdictOfLines([apiError(503, { "retry-after": "Tue, 24 Nov 2026 10:00:00 GMT" })]);
    expect(dated.errorFamily).toBe("transient_upstream");
    expect(dated.retryNotBefore).toBe("2026-11-24T10:00:00.000Z");
  });

  it("a 400 that OpenCode marks retryable is transient; one it does not is not", () => {
    expect(verdictOfLines([apiError(400)]).errorFamily).toBeNull();
    const retryable = { ...apiError(400), error: { name: "APIError", data: { message: "x", statusCode: 400, isRetryable: true } } };
    expect(verdictOfLines([retryable]).errorFamily).toBe("transient_upstream");
  });

  it("counts reasoning as output and cache reads as cached input, summing cost", () => {
    const verdict = verdictOfLines([stop, { type: "text", part: { text: "ok" } }, stop], { exitCode: 0 });
    expect(verdict.usage).toEqual({ inputTokens: 10, outputTokens: 10, cachedInputTokens: 14 });
    expect(verdict.costUsd).toBe(0.5);
    expect(verdict.errorMessage ?? null).toBeNull();
  });

  it("a finished run that exits non-zero reports the first stderr line", () => {
    const finished = [{ type: "text", part: { text: "done" } }, stop];
    expect(verdictOfLines(finished, { stderrTail: "\n\u001b[91mboom\u001b[0m\nmore\n" }).errorMessage).toBe(
      "OpenCode finished its turn but exited with code 1: boom",
    );
    expect(verdictOfLines(finished).errorMessage).toBe("OpenCode finished its turn but exited with code 1: container exited 1");
  });

  it("a CLI that exits non-zero before any output failed to start: its own first stderr line, without colours", () => {
    const verdict = verdictOfLines([], { stderrTail: "\u001b[91m\u001b[1mError: \u001b[0mUnknown option --bogus\n" });
    expect(verdict.errorCode).toBe("agent_start_failed");
    expect(verdict.errorMessage).toBe("Error: Unknown option --bogus");
  });

  it("401 or 403 from the provider is llm_auth_error, never retried", () => {
    const verdict = verdictOfLines([apiError(401)]);
    expect(verdict.errorCode).toBe("llm_auth_error");
    expect(verdict.errorFamily).toBeNull();
    expect(verdict.retryNotBefore).toBeNull();
    expect(verdict.errorMessage).toMatch(/^OpenCode could not authenticate with the model provider \(HTTP 401: HTTP 401\)\. Check the provider's API key/);
    expect(verdictOfLines([apiError(403)]).errorCode).toBe("llm_auth_error");
  });

  it("a stop followed by a new step is not finished", () => {
    const verdict = verdictOfLines([stop, { type: "step_start", part: {} }], { exitCode: 0 });
    expect(verdict.errorCode).toBe("opencode_truncated");
  });

  it("a string error is taken as the message", () => {
    expect(verdictOfLines([{ type: "error", error: "  plain failure " }]).errorMessage).toBe("plain failure");
  });
});
