import { describe, expect, it } from "vitest";
import { type CachedObject, WatchCache, type WatchEvent, compareResourceVersions } from "./watch-cache.ts";

describe("compareResourceVersions", () => {
  it("compares integers numerically, beyond 2^53, and refuses anything else", () => {
    expect(compareResourceVersions("9", "10")).toBe(-1);
    expect(compareResourceVersions("10", "10")).toBe(0);
    expect(compareResourceVersions("18014398509481985", "18014398509481984")).toBe(1);
    expect(compareResourceVersions("abc", "10")).toBeUndefined();
    expect(compareResourceVersions(undefined, "10")).toBeUndefined();
  });
});

const object = (name: string, resourceVersion: string): CachedObject => ({ metadata: { name, resourceVersion } });

function recorded(cache: WatchCache<CachedObject>, target: string | ((o: CachedObject) => boolean)): string[] {
  const seen: string[] = [];
  cache.subscribe(target, (event: WatchEvent<CachedObject>) =>
    seen.push(`${event.type} ${event.object.metadata?.name}@${event.object.metadata?.resourceVersion}${event.synthetic ? " (list)" : ""}`),
  );
  return seen;
}

describe("WatchCache", () => {
  it("turns a list into the difference against what it held", () => {
    const cache = new WatchCache<CachedObject>(() => undefined);
    const all = recorded(cache, () => true);
    expect(cache.applyList([object("a", "1"), object("b", "2")], "2")).toBe(2);
    expect(cache.applyList([object("a", "1"), object("c", "5")], "5")).toBe(2);
    expect(all).toEqual(["ADDED a@1 (list)", "ADDED b@2 (list)", "ADDED c@5 (list)", "DELETED b@2 (list)"]);
    expect(cache.list().map((o) => o.metadata?.name)).toEqual(["a", "c"]);
    expect(cache.version).toBe("5");
  });

  it("never goes backwards: older lists, events and bookmarks are dropped", () => {
    const cache = new WatchCache<CachedObject>(() => undefined);
    const a = recorded(cache, "a");
    cache.applyList([object("a", "10")], "10");
    cache.applyEvent("MODIFIED", object("a", "9"));
    expect(cache.applyList([], "8")).toBe(0);
    cache.advanceTo("7");
    expect(cache.version).toBe("10");
    cache.applyEvent("MODIFIED", object("a", "11"));
    cache.applyEvent("DELETED", object("a", "12"));
    cache.applyEvent("DELETED", object("a", "13"));
    expect(a).toEqual(["ADDED a@10 (list)", "MODIFIED a@11", "DELETED a@12"]);
    expect(cache.get("a")).toBeUndefined();
  });

  it("keeps delivering when a subscriber throws, and reports what it threw; unsubscribing ends delivery", () => {
    const errors: unknown[] = [];
    const cache = new WatchCache<CachedObject>((error) => errors.push(error));
    cache.subscribe("a", () => {
      throw new Error("subscriber broke");
    });
    const others: string[] = [];
    const unsubscribe = cache.subscribe("a", (event) => others.push(event.type));
    expect(cache.hasSubscribers()).toBe(true);
    cache.applyEvent("ADDED", object("a", "1"));
    unsubscribe();
    cache.applyEvent("MODIFIED", object("a", "2"));
    expect(others).toEqual(["ADDED"]);
    expect(errors.map((error) => (error as Error).message)).toEqual(["subscriber broke", "subscriber broke"]);
  });
});
