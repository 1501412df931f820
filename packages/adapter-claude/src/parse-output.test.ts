import { describe, expect, it } from "vitest";
import { readCliFixture, parseStdout } from "paperclip-k8s-runtime/testing";
import { createClaudeParser } from "./parse-output.ts";

const assistant = (text: string) =>
  JSON.stringify({ type: "assistant", session_id: "s-1", message: { content: [{ type: "text", text }] } });

describe("createClaudeParser", () => {
  it("ignores text that is not a JSON object between real lines", () => {
    const { stdout } = readCliFixture("claude", "happy");
    const clean = parseStdout(createClaudeParser(), stdout);
    const noisy = stdout
      .split("\n")
      .flatMap((line) => [line, "not json", "{broken", "[1,2]", "42", "null", "   ", "\r"])
      .join("\n");
    expect(parseStdout(createClaudeParser(), noisy)).toEqual(clean);
    expect(clean.result?.subtype).toBe("success");
    expect(clean.apiKeySource).toBe("ANTHROPIC_API_KEY");
  });

  it("accepts CRLF line endings", () => {
    const { stdout } = readCliFixture("claude", "max-turns");
    const parsed = parseStdout(createClaudeParser(), stdout.replaceAll("\n", "\r\n"));
    expect(parsed.result?.subtype).toBe("error_max_turns");
    expect(parsed.result?.errors).toEqual(["Reached maximum number of turns (1)"]);
    expect(parsed.result?.numTurns).toBe(2);
  });

  it("reads the API error fields of a failed result", () => {
    const parsed = parseStdout(createClaudeParser(), readCliFixture("claude", "err500").stdout);
    expect(parsed.result?.isError).toBe(true);
    expect(parsed.result?.apiErrorStatus).toBe(500);
    expect(parsed.result?.costUsd).toBe(0);
  });

  it("keeps only a bounded tail of assistant text, however much arrives", () => {
    const parser = createClaudeParser();
    const huge = "x".repeat(5 * 1024 * 1024);
    parser.push(assistant(huge));
    for (let index = 0; index < 2000; index += 1) parser.push(assistant(`step ${index} ${"y".repeat(200)}`));
    parser.push(assistant("final words"));
    const { assistantText, result, sessionId } = parser.result();
    expect(assistantText.length).toBeLessThan(70 * 1024);
    expect(assistantText.startsWith("[…earlier text omitted]")).toBe(true);
    expect(assistantText.endsWith("final words")).toBe(true);
    expect(assistantText).not.toContain("x".repeat(1000));
    expect(result).toBeNull();
    expect(sessionId).toBe("s-1");
  });

  it("keeps the last result line when the CLI prints more than one", () => {
    const parser = createClaudeParser();
    parser.push(JSON.stringify({ type: "result", subtype: "error_during_execution", is_error: true, session_id: "a" }));
    parser.push(JSON.stringify({ type: "result", subtype: "success", result: "ok", session_id: "b", total_cost_usd: 0.5 }));
    const { result, sessionId } = parser.result();
    expect(result?.subtype).toBe("success");
    expect(result?.costUsd).toBe(0.5);
    expect(sessionId).toBe("b");
  });
});
