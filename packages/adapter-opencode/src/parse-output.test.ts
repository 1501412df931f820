import { describe, expect, it } from "vitest";
import { readCliFixture, parseStdout } from "paperclip-k8s-runtime/testing";
import { createOpenCodeParser } from "./parse-output.ts";

describe("createOpenCodeParser", () => {
  it("ignores text that is not a JSON object between real lines", () => {
    const { stdout } = readCliFixture("opencode", "happy");
    const clean = parseStdout(createOpenCodeParser(), stdout);
    const noisy = stdout
      .split("\n")
      .flatMap((line) => [line, "INFO  starting server", "{oops", "[]", "true", ""])
      .join("\r\n");
    expect(parseStdout(createOpenCodeParser(), noisy)).toEqual(clean);
    expect(clean.finished).toBe(true);
    expect(clean.stepCount).toBe(2);
  });

  it("reads the fields of an API error line", () => {
    const parsed = parseStdout(createOpenCodeParser(), readCliFixture("opencode", "err500").stdout);
    expect(parsed.errors).toEqual([
      {
        message: "The server had an error while processing your request.",
        name: "APIError",
        statusCode: 500,
        isRetryable: true,
        retryAfter: null,
      },
    ]);
    expect(parsed.finished).toBe(false);
  });

  it("keeps a bounded tail of text and errors, however much arrives", () => {
    const parser = createOpenCodeParser();
    parser.push(JSON.stringify({ type: "text", sessionID: "ses_1", part: { text: "x".repeat(4 * 1024 * 1024) } }));
    for (let index = 0; index < 3000; index += 1) {
      parser.push(JSON.stringify({ type: "text", part: { text: `chunk ${index} ${"y".repeat(100)}` } }));
      parser.push(JSON.stringify({ type: "error", error: { data: { message: `e${index}` } } }));
    }
    parser.push(JSON.stringify({ type: "text", part: { text: "last" } }));
    const parsed = parser.result();
    expect(parsed.text.length).toBeLessThan(70 * 1024);
    expect(parsed.text.endsWith("last")).toBe(true);
    expect(parsed.text).not.toContain("x".repeat(1000));
    expect(parsed.errors).toHaveLength(20);
    expect(parsed.errors.at(-1)?.message).toBe("e2999");
    expect(parsed.sessionId).toBe("ses_1");
  });

  it("returns a snapshot the caller cannot change the parser through", () => {
    const parser = createOpenCodeParser();
    parser.push(JSON.stringify({ type: "step_finish", part: { reason: "stop", tokens: { input: 1 } } }));
    const first = parser.result();
    first.usage.inputTokens = 99;
    first.errors.push({ message: "x", name: null, statusCode: null, isRetryable: null, retryAfter: null });
    expect(parser.result().usage.inputTokens).toBe(1);
    expect(parser.result().errors).toEqual([]);
  });
});
