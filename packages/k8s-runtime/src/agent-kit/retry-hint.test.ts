import { describe, expect, it } from "vitest";
import { retryNotBeforeFromText } from "./retry-hint.ts";

const now = new Date("2026-11-24T09:44:00.000Z");

describe("retryNotBeforeFromText", () => {
  it("reads Claude's usage-limit epoch form", () => {
    expect(retryNotBeforeFromText("Claude AI usage limit reached|1795600000", now)).toBe(new Date(1795600000 * 1000).toISOString());
  });

  it("reads a relative delay", () => {
    expect(retryNotBeforeFromText("Rate limited. Please try again in 30 seconds.", now)).toBe("2026-11-24T09:44:30.000Z");
    expect(retryNotBeforeFromText("retry after 2 minutes", now)).toBe("2026-11-24T09:46:00.000Z");
    expect(retryNotBeforeFromText("try again in 1 hour", now)).toBe("2026-11-24T10:44:00.000Z");
  });

  it("reads a reset clock time in the named zone, today or tomorrow", () => {
    // 5pm in Berlin (UTC+1 in November) is 16:00 UTC, still ahead today.
    expect(retryNotBeforeFromText("You've hit your limit · resets 5pm (Europe/Berlin)", now)).toBe("2026-11-24T16:00:00.000Z");
    // 9:30am UTC has passed: the next one is tomorrow.
    expect(retryNotBeforeFromText("usage limit reached, resets 9:30am (UTC)", now)).toBe("2026-11-25T09:30:00.000Z");
    // No zone: the pod's clock, UTC.
    expect(retryNotBeforeFromText("limit resets at 12am", now)).toBe("2026-11-25T00:00:00.000Z");
    // Codex's usage-limit wording.
    expect(retryNotBeforeFromText("You've hit your usage limit for GPT-5. Switch to another model now, or try again at 3:05 PM.", now)).toBe(
      "2026-11-24T15:05:00.000Z",
    );
    // Across a daylight-saving change (New York leaves DST on 2026-11-01).
    const beforeChange = new Date("2026-10-31T20:00:00.000Z");
    expect(retryNotBeforeFromText("resets 3pm (America/New_York)", beforeChange)).toBe("2026-11-01T20:00:00.000Z");
  });

  it("gives null when the text names no time", () => {
    expect(retryNotBeforeFromText("API Error: 500 Internal server error. try again in a moment", now)).toBeNull();
    expect(retryNotBeforeFromText("resets 5pm (Not/AZone)", now)).toBeNull();
    expect(retryNotBeforeFromText("resets 13pm", now)).toBeNull();
  });
});
