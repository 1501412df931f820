import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import { describe, expect, it } from "vitest";
import { describeSessionId, MAX_SESSION_ID_LENGTH, sessionIdProblem, withUsableSession } from "./session-id.ts";

describe("sessionIdProblem", () => {
  it.each(["0c6b3a52-93c4-4f0e-a7de-6f1d2e6b9a10", "ses_3f9a8b7c6d5e4f3a2b1c0d9e8f", "a", "x".repeat(MAX_SESSION_ID_LENGTH)])("accepts %s", (id) => {
    expect(sessionIdProblem(id)).toBeNull();
  });

  it.each([
    ["x".repeat(MAX_SESSION_ID_LENGTH + 1), /is 257 characters long \(at most 256\)/],
    ["abc def", /holds characters/],
    ["$(touch /tmp/x)", /holds characters/],
    ["a\nb", /holds characters/],
    ["-flag", /holds characters/],
    ["", /holds characters/],
  ])("refuses %j", (id, problem) => {
    expect(sessionIdProblem(id)).toMatch(problem);
  });

  it("describes an id in a few dozen characters", () => {
    expect(describeSessionId("abc")).toBe('"abc"');
    expect(describeSessionId("y".repeat(300_000))).toBe(`"${"y".repeat(40)}…" (300000 characters)`);
  });
});

describe("withUsableSession", () => {
  const ok: AdapterExecutionResult = { exitCode: 0, signal: null, timedOut: false };

  it("drops an unusable new session id from the agent's output and clears the session, with a note", () => {
    const notes: string[] = [];
    const bad = "z".repeat(1000);
    const result = withUsableSession({ ...ok, sessionId: bad, sessionParams: { sessionId: bad }, sessionDisplayId: bad }, false, (note) => notes.push(note));
    expect(result).toEqual({ ...ok, sessionId: null, sessionParams: null, sessionDisplayId: null, clearSession: true });
    expect(notes).toEqual([expect.stringMatching(/new session id "z+…" \(1000 characters\) is not kept: it is 1000 characters long/)]);
  });

  it("clears the session when the saved one was dropped and the run started none; keeps a new good one", () => {
    const notes: string[] = [];
    expect(withUsableSession(ok, true, (note) => notes.push(note))).toEqual({ ...ok, clearSession: true });
    const fresh = { ...ok, sessionId: "new-session", sessionParams: { sessionId: "new-session" } };
    expect(withUsableSession(fresh, true, (note) => notes.push(note))).toBe(fresh);
    expect(withUsableSession(ok, false, (note) => notes.push(note))).toBe(ok);
    expect(notes).toEqual([]);
  });
});
