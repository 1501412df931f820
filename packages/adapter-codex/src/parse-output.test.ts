import { parseCodexJsonl } from "@paperclipai/adapter-codex-local/server";
import { cliFixtureScenarios, parseStdout, readCliFixture } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { createCodexParser } from "./parse-output.ts";

describe("createCodexParser", () => {
  it.each(cliFixtureScenarios("codex"))("%s: thread, usage and summary as Paperclip's codex_local reads them", (scenario) => {
    const { stdout } = readCliFixture("codex", scenario);
    const ours = parseStdout(createCodexParser(), stdout);
    const theirs = parseCodexJsonl(stdout);
    expect({ sessionId: ours.sessionId, usage: ours.usage, summary: ours.summary }).toEqual({
      sessionId: theirs.sessionId,
      usage: theirs.usage,
      summary: theirs.summary,
    });
  });

  it("reads a failed turn and keeps Codex's retry notices apart from it", () => {
    const parsed = parseStdout(createCodexParser(), readCliFixture("codex", "err500").stdout);
    expect(parsed.turnFailure).toBe("We’re currently experiencing high demand, which may cause temporary errors.");
    expect(parsed.lastError).toBe(parsed.turnFailure);
    expect(parsed.turnCompleted).toBe(false);
    const killed = parseStdout(createCodexParser(), readCliFixture("codex", "killed-midstream").stdout);
    expect([killed.turnCompleted, killed.turnFailure, killed.lastError]).toEqual([false, null, null]);
  });

  it("ignores text that is not a JSON event between real lines", () => {
    const { stdout } = readCliFixture("codex", "happy");
    const noisy = stdout
      .split("\n")
      .flatMap((line) => [line, "WARNING: something", "{oops", "[]", "true", '{"no":"type"}', ""])
      .join("\r\n");
    expect(parseStdout(createCodexParser(), noisy)).toEqual(parseStdout(createCodexParser(), stdout));
  });

  it("keeps bounded text however much arrives, and never a thread id that could read as an argument", () => {
    const parser = createCodexParser();
    parser.push(JSON.stringify({ type: "thread.started", thread_id: "01a251eb-7f56-7100-9b64-cbaa4e73d0fa" }));
    parser.push(JSON.stringify({ type: "thread.started", thread_id: "--last" }));
    for (let index = 0; index < 200; index += 1) {
      parser.push(JSON.stringify({ type: "item.completed", item: { type: "agent_message", text: `m${index} ${"x".repeat(200_000)}` } }));
      parser.push(JSON.stringify({ type: "error", message: "e".repeat(100_000) }));
    }
    const parsed = parser.result();
    expect(parsed.sessionId).toBe("01a251eb-7f56-7100-9b64-cbaa4e73d0fa");
    expect(parsed.summary.startsWith("m199 ")).toBe(true);
    expect(parsed.summary.length).toBeLessThanOrEqual(64 * 1024 + 1);
    expect(parsed.lastError?.length).toBeLessThanOrEqual(4 * 1024 + 1);
  });

  it("a new turn.started forgets the previous turn's completion", () => {
    const parser = createCodexParser();
    parser.push(JSON.stringify({ type: "turn.completed", usage: { input_tokens: 5, output_tokens: 1 } }));
    parser.push(JSON.stringify({ type: "turn.started" }));
    expect(parser.result()).toMatchObject({ turnCompleted: false, usage: { inputTokens: 5, outputTokens: 1, cachedInputTokens: 0 } });
  });
});
