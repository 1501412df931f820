import { describe, expect, it } from "vitest";
import { SilentWatchSchedule } from "./silent-watch-schedule.ts";

/** A schedule on a clock the test moves; times are ms since the schedule was made. */
function scheduleAt(floorMs = 10_000, ceilingMs = 90_000) {
  let now = 0;
  const schedule = new SilentWatchSchedule({ floorMs, ceilingMs, now: () => now });
  return {
    schedule,
    at(ms: number) {
      now = ms;
      return schedule;
    },
  };
}

describe("SilentWatchSchedule", () => {
  it("waits the floor until a bookmark came, then 1.5 × the longest quiet gap a bookmark ended", () => {
    const { schedule, at } = scheduleAt();
    at(0).connected();
    expect(schedule.dueAt()).toBe(10_000);
    at(5_000).heard(false);
    expect(schedule.dueAt()).toBe(15_000);
    // kube-apiserver's first bookmark comes a minute after the watch started; events in between shorten the gap.
    at(60_000).heard(true);
    expect(schedule.learnedWaitMs()).toBe(82_500);
    at(120_000).heard(true);
    expect(schedule.learnedWaitMs()).toBe(90_000);
    expect(schedule.dueAt()).toBe(210_000);
    // The bookmark 2 s before a watch's deadline ends a shorter gap: the longest one still counts.
    at(150_000).heard(true);
    expect(schedule.learnedWaitMs()).toBe(90_000);
  });

  it("measures a bookmark gap on its own connection, while quiet counts across connections", () => {
    const { schedule, at } = scheduleAt();
    at(0).connected();
    at(1_000).heard(true);
    expect(schedule.learnedWaitMs()).toBe(10_000);
    // Re-opened after 8 s of quiet: the wait still counts from the last delivery, the next gap from the new connection.
    at(9_000).connected();
    expect(schedule.dueAt()).toBe(11_000);
    at(10_000).listed();
    expect(schedule.silentForMs()).toBe(9_000);
    at(29_000).heard(true);
    expect(schedule.learnedWaitMs()).toBe(30_000);
    expect(schedule.silentForMs()).toBe(0);
  });

  it("stays within the floor and the ceiling, and the floor wins over a lower ceiling", () => {
    const fast = scheduleAt();
    fast.at(100).heard(true);
    expect(fast.schedule.learnedWaitMs()).toBe(10_000);
    const slow = scheduleAt();
    slow.at(300_000).heard(true);
    expect(slow.schedule.learnedWaitMs()).toBe(90_000);
    const inverted = scheduleAt(10_000, 30);
    inverted.at(1_000).heard(true);
    expect(inverted.schedule.learnedWaitMs()).toBe(10_000);
  });

  it("doubles the wait after each check that found nothing missed, up to the ceiling, and a delivery brings it back", () => {
    const { schedule, at } = scheduleAt();
    const checks: number[] = [];
    for (let i = 0; i < 6; i++) {
      const due = schedule.dueAt();
      checks.push(due);
      at(due).listed();
      schedule.foundNothingMissed();
    }
    expect(checks).toEqual([10_000, 30_000, 70_000, 150_000, 240_000, 330_000]);
    // Only a delivery that ends a backed-off wait brings the check sooner.
    expect(at(340_000).heard(false)).toBe(true);
    expect(schedule.dueAt()).toBe(350_000);
    expect(at(341_000).heard(false)).toBe(false);
  });

  it("waits as long again after a check that was not made, without backing off", () => {
    const { schedule, at } = scheduleAt();
    at(10_000).postponed();
    expect(schedule.dueAt()).toBe(20_000);
  });
});
