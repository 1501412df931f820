import { describe, expect, it } from "vitest";
import type { AgentVerdict, PodOutcome } from "../agent.ts";
import { authFailureVerdict, finishedRunVerdict, isProviderAuthFailure, unfinishedRunVerdict, type AgentCliTerms } from "./run-policies.ts";

const terms: AgentCliTerms = { name: "MyCli", terminalEvent: "its done event", truncatedErrorCode: "mycli_truncated", credentials: "MYCLI_API_KEY" };
const verdict: AgentVerdict = { sessionId: "s-1", summary: "partial" };
const outcome = (overrides: Partial<PodOutcome>): PodOutcome => ({
  exitCode: 1,
  signal: null,
  reason: "Error",
  description: "container mycli exited 1",
  stderrTail: "",
  stdoutLines: 0,
  ...overrides,
});

describe("shared run policies", () => {
  it("a non-zero exit before any stdout is a refused start, named by the CLI's first stderr line", () => {
    const refused = unfinishedRunVerdict(verdict, outcome({ stderrTail: "\n\u001b[31mmycli: unknown flag --x\u001b[0m\nusage: …\n" }), terms);
    expect(refused).toMatchObject({ errorCode: "agent_start_failed", errorMessage: "mycli: unknown flag --x", sessionId: "s-1" });
    expect(unfinishedRunVerdict(verdict, outcome({}), terms).errorMessage).toBe(
      "MyCli exited with code 1 before printing anything, and said nothing on stderr",
    );
  });

  it("output cut short is truncated with the pod's termination: after output, killed by a signal, or exit 0", () => {
    for (const cut of [
      outcome({ stdoutLines: 3, stderrTail: "oops\n" }),
      outcome({ exitCode: 137, signal: "SIGKILL", description: "container mycli exited 137 (SIGKILL)" }),
      outcome({ exitCode: 0, description: "container mycli exited 0" }),
    ]) {
      const truncated = unfinishedRunVerdict(verdict, cut, terms);
      expect(truncated.errorCode).toBe("mycli_truncated");
      expect(truncated.errorMessage?.startsWith(`MyCli output ended without its done event: ${cut.description}`)).toBe(true);
    }
    expect(unfinishedRunVerdict(verdict, outcome({ stdoutLines: 3, stderrTail: "oops\n" }), terms).errorMessage).toMatch(/; stderr: oops$/);
  });

  it("a finished turn with no text and 0 output tokens is a transient llm_api_error", () => {
    const empty = finishedRunVerdict(verdict, outcome({ exitCode: 0, stdoutLines: 2 }), terms, { text: "  ", outputTokens: 0 });
    expect(empty).toMatchObject({ errorCode: "llm_api_error", errorFamily: "transient_upstream" });
    expect(finishedRunVerdict(verdict, outcome({ exitCode: 0 }), terms, { text: "", outputTokens: 4 })).toEqual(verdict);
  });

  it("a finished turn that exits non-zero fails, with the first stderr line or the pod's words", () => {
    const reply = { text: "done", outputTokens: 2 };
    expect(finishedRunVerdict(verdict, outcome({ exitCode: 3, stderrTail: "\u001b[33mwarn: x\u001b[0m\n" }), terms, reply).errorMessage).toBe(
      "MyCli finished its turn but exited with code 3: warn: x",
    );
    expect(finishedRunVerdict(verdict, outcome({ exitCode: 3 }), terms, reply).errorMessage).toBe(
      "MyCli finished its turn but exited with code 3: container mycli exited 1",
    );
    expect(finishedRunVerdict(verdict, outcome({ exitCode: 0 }), terms, reply)).toEqual(verdict);
  });

  it("refused credentials: 401, 403 or the providers' wording; never retried", () => {
    expect(isProviderAuthFailure(401, "")).toBe(true);
    expect(isProviderAuthFailure(403, "")).toBe(true);
    expect(isProviderAuthFailure(null, "Invalid API key · Please run /login")).toBe(true);
    expect(isProviderAuthFailure(null, '{"type":"authentication_error","message":"invalid x-api-key"}')).toBe(true);
    expect(isProviderAuthFailure(500, "Internal server error")).toBe(false);
    expect(isProviderAuthFailure(429, "rate limited")).toBe(false);
    const earlier = { ...verdict, errorFamily: "transient_upstream" as const, retryNotBefore: "2030-01-01T00:00:00.000Z" };
    expect(authFailureVerdict(earlier, terms, { status: 401, detail: "invalid x-api-key" })).toMatchObject({
      errorCode: "llm_auth_error",
      errorFamily: null,
      retryNotBefore: null,
      errorMessage: "MyCli could not authenticate with the model provider (HTTP 401: invalid x-api-key). Check MYCLI_API_KEY.",
    });
    expect(authFailureVerdict(verdict, terms, { status: null, detail: " " }).errorMessage).toBe(
      "MyCli could not authenticate with the model provider. Check MYCLI_API_KEY.",
    );
  });
});
