import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { KeyedMutex } from "./keyed-mutex.ts";

describe("KeyedMutex", () => {
  it("runs work for one key one at a time, in call order", async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const work = (name: string, ms: number) =>
      mutex.run("agent-1", async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        events.push(`start ${name}`);
        await delay(ms);
        events.push(`end ${name}`);
        inside--;
        return name;
      });
    const results = await Promise.all([work("a", 15), work("b", 1), work("c", 5)]);
    expect(results).toEqual(["a", "b", "c"]);
    expect(maxInside).toBe(1);
    expect(events).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
  });

  it("lets different keys run at the same time", async () => {
    const mutex = new KeyedMutex();
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const first = mutex.run("agent-1", () => firstHeld);
    // Would never finish if agent-2 had to wait for agent-1.
    const second = await mutex.run("agent-2", async () => "done");
    expect(second).toBe("done");
    releaseFirst();
    await first;
  });

  it("passes a failure to its caller and goes on with the next holder", async () => {
    const mutex = new KeyedMutex();
    const failing = mutex.run("agent-1", async () => {
      throw new Error("guard unreachable");
    });
    const next = mutex.run("agent-1", async () => 42);
    await expect(failing).rejects.toThrow("guard unreachable");
    await expect(next).resolves.toBe(42);
  });

  it("forgets a key once nobody holds or waits for it", async () => {
    const mutex = new KeyedMutex();
    const pending = [mutex.run("a", () => delay(5)), mutex.run("a", () => delay(1)), mutex.run("b", () => delay(1))];
    expect(mutex.size).toBe(2);
    await Promise.all(pending);
    expect(mutex.size).toBe(0);
  });
});
