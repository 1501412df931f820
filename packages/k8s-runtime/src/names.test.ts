import { describe, expect, it } from "vitest";
import { MAX_PATH_SEGMENT_LENGTH, UnsafeIdError, assertSafePathSegment, jobNameFor, runSecretNameFor } from "./names.ts";
import { randomText } from "./testing/random-text.ts";

const random = randomText(1123);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe("jobNameFor", () => {
  it("builds a readable name from both ids", () => {
    const name = jobNameFor("7f3c2a10-aaaa-bbbb-cccc-000000000001", "0b9e44d2-1111-2222-3333-444444444444");
    expect(name).toMatch(/^pc-7f3c2a10-0b9e44d2-[0-9a-f]{12}$/);
  });

  it("is deterministic and differs between runs and agents", () => {
    expect(jobNameFor("agent", "run-1")).toBe(jobNameFor("agent", "run-1"));
    expect(jobNameFor("agent", "run-1")).not.toBe(jobNameFor("agent", "run-2"));
    expect(jobNameFor("agent-a", "run")).not.toBe(jobNameFor("agent-b", "run"));
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    expect(jobNameFor("ab", "c")).not.toBe(jobNameFor("a", "bc"));
  });

  it("is a DNS-1123 label of at most 63 characters for any input (fuzz)", () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const agentId = random.string(0, 80);
      const runId = random.string(0, 80);
      const name = jobNameFor(agentId, runId);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS1123_LABEL);
      expect(jobNameFor(agentId, runId)).toBe(name);
      const key = `${agentId}\0${runId}`;
      const previous = seen.get(name);
      if (previous !== undefined) expect(previous).toBe(key);
      seen.set(name, key);
    }
  });

  it("names one run Secret per agent: a valid DNS label, the same for every run, different per agent and from its Jobs", () => {
    const secret = runSecretNameFor("7f3c2a10-aaaa-bbbb-cccc-000000000001");
    expect(secret).toMatch(DNS1123_LABEL);
    expect(runSecretNameFor("7f3c2a10-aaaa-bbbb-cccc-000000000001")).toBe(secret);
    expect(runSecretNameFor("7f3c2a10-aaaa-bbbb-cccc-000000000002")).not.toBe(secret);
    expect(secret).not.toBe(jobNameFor("7f3c2a10-aaaa-bbbb-cccc-000000000001", "run"));
    expect(runSecretNameFor("!!!")).toMatch(DNS1123_LABEL);
  });
});

describe("assertSafePathSegment", () => {
  it("accepts UUIDs and simple ids", () => {
    expect(() => assertSafePathSegment("agent id", "7f3c2a10-aaaa-bbbb-cccc-000000000001")).not.toThrow();
    expect(() => assertSafePathSegment("run id", "Run_42")).not.toThrow();
    expect(() => assertSafePathSegment("run id", "a".repeat(MAX_PATH_SEGMENT_LENGTH))).not.toThrow();
  });

  it.each([
    ["", "is empty"],
    [".", "may only contain"],
    ["..", "may only contain"],
    ["../etc", "may only contain"],
    ["a/b", "may only contain"],
    ["a\0b", "may only contain"],
    ["ä", "may only contain"],
    ["a b", "may only contain"],
    ["a".repeat(MAX_PATH_SEGMENT_LENGTH + 1), "longer than"],
  ])("refuses %j with a typed error naming the id", (id, problem) => {
    let caught: unknown;
    try {
      assertSafePathSegment("agent id", id);
    } catch (error) {
      caught = error;
    }
    if (!(caught instanceof UnsafeIdError)) throw new Error(`expected UnsafeIdError, got ${String(caught)}`);
    const error = caught;
    expect(error.kind).toBe("agent id");
    expect(error.id).toBe(id);
    expect(error.message).toContain("agent id");
    expect(error.message).toContain(problem);
  });

  it("accepts exactly the ids made of safe characters (fuzz)", () => {
    const nearlySafe = "abcXYZ019_-./";
    for (let i = 0; i < 2000; i++) {
      const id = i % 2 === 0 ? random.stringOf(nearlySafe, 0, 140) : random.string(0, 140);
      const safe = id.length > 0 && id.length <= MAX_PATH_SEGMENT_LENGTH && /^[A-Za-z0-9_-]+$/.test(id);
      if (safe) expect(() => assertSafePathSegment("id", id)).not.toThrow();
      else expect(() => assertSafePathSegment("id", id)).toThrow(UnsafeIdError);
    }
  });
});
