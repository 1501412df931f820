import { expect, it } from "vitest";
import type { ConformanceContext } from "../conformance-context.ts";
import { countRequests } from "../request-counts.ts";

/** API errors, dropped watches, and the request budget (DESIGN §8). */
export function resilienceScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("5xx and 429 bursts and dropped watches mid-run: still correct, no lost or duplicated line", async () => {
    const t = get();
    const { faults } = t.cluster.sim;
    const { happy } = t.options.transcripts;
    faults.failRequests({ verb: "create", resource: "secrets", response: { kind: "status", status: 429, retryAfterSeconds: 1 }, count: 1 });
    faults.failRequests({ verb: "create", resource: "jobs", response: { kind: "status", status: 503 }, count: 2 });
    faults.failRequests({ verb: "create", resource: "jobs", response: { kind: "drop" }, count: 1 });
    try {
      const { result, run } = await t.run({
        scenario: { transcript: t.transcript(happy), lineDelayMs: 60 },
        during: async (run) => {
          await t.untilStreaming(run);
          faults.cutWatches({ afterEvents: 1, count: 4 });
          faults.goneOnNextWatch("jobs");
          faults.failRequests({ verb: "list", response: { kind: "status", status: 500 }, count: 2 });
        },
      });
      expect(result.exitCode).toBe(0);
      expect(result.errorMessage ?? null).toBeNull();
      expect(run.transcript().join("")).toBe(t.fixture(happy).stdout);
    } finally {
      faults.clear();
    }
  });

  it("request budget: API requests per run are constant, however long the runs last", async () => {
    const t = get();
    const batch = async (sleepMs: number) => {
      t.cluster.sim.requests.reset();
      const runs = 4;
      await Promise.all(Array.from({ length: runs }, () => t.run({ scenario: { chunks: [{ text: "{}\n" }], sleepMs } })));
      const snapshot = t.cluster.sim.requests.snapshot();
      return {
        writes: ["create", "patch", "delete", "update"].map((verb) => countRequests(snapshot, verb as "create") / runs),
        jobAndPodReads: countRequests(snapshot, "get", "jobs") + countRequests(snapshot, "get", "pods"),
      };
    };
    const short = await batch(200);
    const long = await batch(4_000);
    expect(long.writes).toEqual(short.writes);
    expect(short.jobAndPodReads).toBe(0);
    expect(long.jobAndPodReads).toBe(0);
  });
}
