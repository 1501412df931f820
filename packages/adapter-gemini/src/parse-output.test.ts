import { describe, expect, it } from "vitest";
import { FINAL_TEXT, parseStdout, readCliFixture } from "paperclip-k8s-runtime/testing";
import { createGeminiParser } from "./parse-output.ts";

describe("createGeminiParser", () => {
  it("keeps the session, model, usage, reply text and result of a real run", () => {
    const parsed = parseStdout(createGeminiParser(), readCliFixture("gemini", "happy").stdout);
    expect(parsed.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parsed.model).toBe("gemini-2.5-flash");
    expect(parsed.result).toEqual({ status: "success", errorType: null, errorMessage: null });
    expect(parsed.text).toBe(`I'll run the command.\n\n${FINAL_TEXT}`);
    expect(parsed.costUsd).toBeNull();
  });

  it("keeps the empty-response warning and the result's error", () => {
    expect(parseStdout(createGeminiParser(), readCliFixture("gemini", "empty").stdout).errors).toMatch(/^The model returned an empty response/);
    expect(parseStdout(createGeminiParser(), readCliFixture("gemini", "max-turns").stdout).result?.errorType).toBe("FatalTurnLimitedError");
  });

  it("ignores junk and non-JSON lines, and reads older CLI shapes (assistant events, result text)", () => {
    const lines = [
      "not json",
      "[1, 2]",
      JSON.stringify({ type: "assistant", sessionId: "old-1", message: { content: [{ type: "text", text: " hi " }, { type: "image" }] } }),
      JSON.stringify({ type: "result", result: "ignored: text came earlier", stats: { inputTokens: 3, outputTokens: 2, cached: 1 } }),
    ];
    const parsed = parseStdout(createGeminiParser(), lines.join("\n"));
    expect(parsed).toMatchObject({ sessionId: "old-1", text: "hi", usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 1 } });
    expect(parseStdout(createGeminiParser(), JSON.stringify({ type: "result", response: "only here" })).text).toBe("only here");
  });

  it("bounds the reply text it keeps", () => {
    const parser = createGeminiParser();
    const line = JSON.stringify({ type: "message", role: "assistant", content: "x".repeat(1000) });
    for (let i = 0; i < 1000; i += 1) parser.push(line);
    expect(parser.result().text.length).toBeLessThan(70 * 1024);
  });
});
