import { rm, stat } from "node:fs/promises";
import { expect, it, vi } from "vitest";
import { runDirectoryFor } from "../../run-directory.ts";
import type { ConformanceContext } from "../conformance-context.ts";
import { countRequests } from "../request-counts.ts";

/** API errors, faults on the open shared watch, kubelet lag, kills right after a burst, and the request budget (DESIGN §8). */
export function resilienceScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("5xx and 429 bursts and dropped watches mid-run: the open watch really restarts; still correct, no lost or duplicated line", async () => {
    const t = get();
    const { faults, requests } = t.cluster.sim;
    const { happy } = t.options.transcripts;
    const expected = t.fixture(happy).stdout;
    faults.failRequests({ verb: "create", resource: "secrets", response: { kind: "status", status: 429, retryAfterSeconds: 1 }, count: 1 });
    faults.failRequests({ verb: "create", resource: "jobs", response: { kind: "status", status: 503 }, count: 2 });
    faults.failRequests({ verb: "create", resource: "jobs", response: { kind: "drop" }, count: 1 });
    try {
      const { result, run } = await t.run({
        scenario: { transcript: t.transcript(happy), lineDelayMs: 400 },
        during: async (run) => {
          await t.untilStreaming(run);
          const before = requests.snapshot();
          // The relist after the 410 fails twice before it succeeds.
          faults.failRequests({ verb: "list", resource: "jobs", response: { kind: "status", status: 500 }, count: 2 });
          expect(faults.actOnOpenWatches("expire", "jobs")).toBeGreaterThanOrEqual(1);
          expect(faults.actOnOpenWatches("drop", "pods")).toBeGreaterThanOrEqual(1);
          // Mid-run: the agent has not printed everything yet.
          expect(run.transcript().join("").length).toBeLessThan(expected.length);
          await vi.waitFor(
            () => {
              const now = requests.snapshot();
              expect(countRequests(now, "list", "jobs") - countRequests(before, "list", "jobs")).toBeGreaterThanOrEqual(3);
              expect((now.watchesOpened.jobs ?? 0) - (before.watchesOpened.jobs ?? 0)).toBeGreaterThanOrEqual(1);
              expect((now.watchesOpened.pods ?? 0) - (before.watchesOpened.pods ?? 0)).toBeGreaterThanOrEqual(1);
            },
            { timeout: 20_000, interval: 50 },
          );
        },
      });
      expect(result.exitCode).toBe(0);
      expect(result.errorMessage ?? null).toBeNull();
      expect(run.transcript().join("")).toBe(expected);
    } finally {
      faults.clear();
    }
  });

  it("429 with a Retry-After beyond the runtime's cap: fails at once, saying what the server asked for", async () => {
    const t = get();
    const { faults } = t.cluster.sim;
    faults.failRequests({ verb: "create", resource: "secrets", response: { kind: "status", status: 429, retryAfterSeconds: 90 }, count: 1 });
    const secretCreates = () => t.cluster.sim.requests.count({ verb: "create", resource: "secrets" });
    const before = secretCreates();
    try {
      const { result, agentId } = await t.run({ scenario: { chunks: [{ text: "{}\n" }] } });
      expect(result.errorCode).toBe("k8s_secret_create_failed");
      expect(result.errorMessage).toMatch(/HTTP 429 TooManyRequests.*the server asked to retry after 90 s, longer than the 60 s this runtime waits/);
      expect(secretCreates() - before).toBe(1);
      await t.expectCleanCluster(agentId);
    } finally {
      faults.clear();
    }
  });

  it("watches that stay connected but send nothing (new ones too): detected, replaced, polled meanwhile; the run says so and finishes whole", async () => {
    const t = get();
    const { faults, requests } = t.cluster.sim;
    const { happy } = t.options.transcripts;
    const namespace = t.cluster.namespace;
    // The pod waits in ContainerCreating until the watches are held, so its start is what they hold back.
    faults.holdInContainerCreating(`${namespace}/*`);
    try {
      const { result, run } = await t.run({
        // Longer than the watch's silence check (10 s), so the run would be waiting on the held watch.
        scenario: { transcript: t.transcript(happy), lineDelayMs: 2_500 },
        during: async (_run, agentId) => {
          await t.podOf(agentId);
          const watchesBefore = requests.snapshot().watchesOpened;
          // As behind a proxy that holds every watch stream, the replacements included.
          expect(faults.holdAllWatches()).toBeGreaterThanOrEqual(2);
          faults.releaseContainerCreating(`${namespace}/*`);
          await vi.waitFor(
            () => {
              const now = requests.snapshot().watchesOpened;
              expect((now.pods ?? 0) - (watchesBefore.pods ?? 0)).toBeGreaterThanOrEqual(1);
            },
            { timeout: 30_000, interval: 100 },
          );
          faults.actOnOpenWatches("release");
        },
      });
      expect(result.exitCode).toBe(0);
      expect(result.errorMessage ?? null).toBeNull();
      expect(run.transcript().join("")).toBe(t.fixture(happy).stdout);
      expect(run.stdout.join("")).toMatch(/Kubernetes Pod watch down \(watch connected but delivered nothing for \d+ s while a list found \d+ change\(s\) it missed; replacing it\)/);
      expect(run.stdout.join("")).toContain("Kubernetes Pod watch restored.");
    } finally {
      faults.clear();
    }
  });

  it("kubelet status lag: with no exit-code file, the exit code comes from the container once kubelet publishes it", async () => {
    const t = get();
    t.cluster.sim.faults.statusLagMs = 1_500;
    try {
      // The failed run's files are kept, to show the exit-code file really was never written.
      const { result, run, agentId } = await t.run({
        config: { retainRunFilesOnFailureSec: 600 },
        scenario: { chunks: [{ text: "{}\n" }], blockExitCodeFile: true, killSelf: "SIGKILL" },
      });
      expect(result.exitCode).toBe(137);
      expect(result.errorMessage).toMatch(/SIGKILL/);
      const files = runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, companyId: run.ctx.agent.companyId, agentId, runId: run.ctx.runId });
      await expect(stat(files.exitCode)).rejects.toMatchObject({ code: "ENOENT" });
      expect((await stat(`${files.exitCode}.tmp`)).isDirectory()).toBe(true);
      await t.expectCleanCluster(agentId);
      await rm(files.dir, { recursive: true, force: true });
    } finally {
      t.cluster.sim.faults.statusLagMs = 0;
    }
  });

  it("every line, always: an agent SIGKILLed right after a burst of 200 lines, 10 times, loses none and keeps their order", async () => {
    const t = get();
    const lines = Array.from({ length: 200 }, (_, seq) => `${JSON.stringify({ type: "burst", seq, pad: "p".repeat(900) })}\n`);
    const runs = await Promise.all(
      Array.from({ length: 10 }, () => t.run({ scenario: { chunks: lines.map((text) => ({ text })), killSelf: "SIGKILL" } })),
    );
    for (const { result, run } of runs) {
      expect(result.exitCode).toBe(137);
      expect(run.transcript().join("")).toBe(lines.join(""));
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
