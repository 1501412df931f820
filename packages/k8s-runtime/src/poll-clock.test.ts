import { describe, expect, it, vi } from "vitest";
import { PollClock } from "./poll-clock.ts";

describe("PollClock", () => {
  it("calls each callback once, in the order they fall due, never before its wait is over", async () => {
    const clock = new PollClock();
    const calls: { name: string; late: number }[] = [];
    const start = performance.now();
    const register = (name: string, ms: number) => clock.after(ms, () => calls.push({ name, late: performance.now() - start - ms }));
    // Far enough apart that rounding up to the grid (at most an eighth of a wait) cannot swap them.
    register("a", 200);
    register("b", 300);
    register("c", 20);
    await vi.waitFor(() => expect(calls).toHaveLength(3), { timeout: 5_000 });
    expect(calls.map((call) => call.name)).toEqual(["c", "a", "b"]);
    for (const call of calls) expect(call.late).toBeGreaterThanOrEqual(0);
  });

  it("a late wake-up runs what fell due in the order it fell due, not in the order it was registered", async () => {
    const clock = new PollClock();
    const called: string[] = [];
    clock.after(60, () => called.push("later"));
    clock.after(20, () => called.push("sooner"));
    // A busy event loop: by the time the timer can fire, both have fallen due.
    const blockedUntil = performance.now() + 150;
    while (performance.now() < blockedUntil);
    await vi.waitFor(() => expect(called).toHaveLength(2), { timeout: 5_000 });
    expect(called).toEqual(["sooner", "later"]);
  });

  it("a cancelled callback is not called, and a clock with nothing due holds no timer", async () => {
    vi.useFakeTimers();
    try {
      const clock = new PollClock();
      const called: string[] = [];
      const cancel = clock.after(50, () => called.push("cancelled"));
      clock.after(60, () => called.push("kept"));
      cancel();
      await vi.advanceTimersByTimeAsync(200);
      expect(called).toEqual(["kept"]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
