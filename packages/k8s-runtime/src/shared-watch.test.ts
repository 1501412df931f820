import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { acquireSharedWatch } from "./shared-watch.ts";
import { type SharedWatchOptions, SharedWatch, type WatchStatus } from "./shared-watch-stream.ts";
import type { WatchEvent, WatchTarget } from "./watch-cache.ts";
import { MANAGED_LABELS, useWatchTestCluster, WATCH_TEST_NAMESPACE, type WatchTestCluster } from "./testing/watch-test-cluster.ts";

const NAMESPACE = WATCH_TEST_NAMESPACE;
/** Fast enough for tests; the production defaults are seconds. */
const FAST: SharedWatchOptions = {
  backoff: { baseDelayMs: 20, maxDelayMs: 100 },
  pollIntervalMs: 100,
  healthyAfterMs: 50,
};

const sim = useWatchTestCluster();
let jobCounter = 0;

function uniqueName(prefix: string): string {
  return `${prefix}-${++jobCounter}`;
}


/** Creates a Job and waits until the Job controller has marked it Suspended, so no more events follow. */
async function createSettledJob(name: string): Promise<void> {
  sim.createSuspendedJob(name);
  await vi.waitFor(() => {
    const conditions = sim.cluster.store.get("jobs", NAMESPACE, name)?.status;
    expect(JSON.stringify(conditions ?? {})).toContain("Suspended");
  });
}

function annotateJob(name: string, value: string): void {
  sim.cluster.store.mutate("jobs", NAMESPACE, name, (job) => {
    job.metadata.annotations = { ...job.metadata.annotations, "test/value": value };
  });
}

function removeJob(name: string): void {
  sim.cluster.store.remove("jobs", NAMESPACE, name);
}

function startJobsWatch(options: SharedWatchOptions = {}, on: WatchTestCluster = sim): SharedWatch<"jobs"> {
  const watch = new SharedWatch(on.access, NAMESPACE, "jobs", { ...FAST, ...options });
  on.track(watch);
  watch.start();
  return watch;
}

function recordEvents(watch: SharedWatch<"jobs">, target: WatchTarget<V1Job>) {
  const events: { type: string; name: string | undefined; value: string | undefined; synthetic: boolean }[] = [];
  watch.subscribe(target, (event: WatchEvent<V1Job>) =>
    events.push({
      type: event.type,
      name: event.object.metadata?.name,
      value: event.object.metadata?.annotations?.["test/value"],
      synthetic: event.synthetic,
    }),
  );
  return events;
}

function recordStatus(watch: SharedWatch<"jobs">): WatchStatus[] {
  const statuses: WatchStatus[] = [];
  watch.onStatus((status) => statuses.push(status));
  return statuses;
}

function requestCount(verb: "list" | "watch", resource = "jobs", on: WatchTestCluster = sim): number {
  return on.cluster.requests.count({ verb, resource });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("SharedWatch against the simulated cluster", () => {
  it("lists managed Jobs as client-node models, then follows them in order", async () => {
    const existing = uniqueName("existing");
    const unmanaged = uniqueName("unmanaged");
    sim.createSuspendedJob(existing);
    sim.createSuspendedJob(unmanaged, { "app.kubernetes.io/managed-by": "someone-else" });
    const watch = startJobsWatch();
    await watch.ready();

    const job = watch.get(existing);
    expect(job?.metadata?.labels).toMatchObject(MANAGED_LABELS);
    expect(job?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(job?.kind).toBe("Job");
    expect(watch.get(unmanaged)).toBeUndefined();

    const name = uniqueName("followed");
    const events = recordEvents(watch, name);
    sim.createSuspendedJob(name);
    annotateJob(name, "one");
    annotateJob(name, "two");
    removeJob(name);
    await vi.waitFor(() => expect(events.at(-1)?.type).toBe("DELETED"));
    // The Job controller may add its Suspended condition in between; what we caused is in order.
    const ours = events.filter((event, index) => index === 0 || event.type === "DELETED" || event.value !== events[index - 1]?.value);
    expect(ours).toEqual([
      { type: "ADDED", name, value: undefined, synthetic: false },
      { type: "MODIFIED", name, value: "one", synthetic: false },
      { type: "MODIFIED", name, value: "two", synthetic: false },
      { type: "DELETED", name, value: "two", synthetic: false },
    ]);
    expect(watch.get(name)).toBeUndefined();
    const watched = watch.get(existing);
    expect(watched?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(watch.status().state).toBe("up");
  });

  it("keeps only a Job's metadata and status, the same from the list and from the watch", async () => {
    const listed = uniqueName("listed-job");
    const watched = uniqueName("watched-job");
    await createSettledJob(listed);
    const watch = startJobsWatch();
    await watch.ready();
    await createSettledJob(watched);
    await vi.waitFor(() => expect(JSON.stringify(watch.get(watched)?.status ?? {})).toContain("Suspended"));
    for (const name of [listed, watched]) {
      const stored = sim.cluster.store.get("jobs", NAMESPACE, name);
      const cached = watch.get(name);
      // What the runtime reads, as the API server has it...
      expect(cached?.metadata?.labels).toEqual(stored?.metadata.labels);
      expect(cached?.metadata?.creationTimestamp).toBeInstanceOf(Date);
      expect(JSON.stringify(stored?.status)).toContain('"Suspended"');
      expect(cached?.status?.conditions?.map((condition) => condition.type)).toContain("Suspended");
      // ...and nothing of its spec (the pod template).
      expect(stored?.spec).toBeDefined();
      expect(cached?.spec).toBeUndefined();
      expect(JSON.stringify(cached)).not.toContain("registry.example.test");
    }
  });

  it("delivers to predicate subscribers and answers list(predicate)", async () => {
    const watch = startJobsWatch();
    await watch.ready();
    const agentLabel = { ...MANAGED_LABELS, "paperclip.io/agent-id": "agent-7" };
    const events = recordEvents(watch, (job) => job.metadata?.labels?.["paperclip.io/agent-id"] === "agent-7");
    const mine = uniqueName("mine");
    const other = uniqueName("other");
    sim.createSuspendedJob(mine, agentLabel);
    sim.createSuspendedJob(other);
    await vi.waitFor(() => expect(watch.get(other)).toBeDefined());
    expect(events.map((event) => event.name)).toContain(mine);
    expect(events.map((event) => event.name)).not.toContain(other);
    expect(watch.list((job) => job.metadata?.labels?.["paperclip.io/agent-id"] === "agent-7").map((job) => job.metadata?.name)).toEqual([
      mine,
    ]);
  });

  it("delivers to label subscribers the events of the objects carrying that value, until they unsubscribe", async () => {
    const watch = startJobsWatch();
    await watch.ready();
    const events = recordEvents(watch, { label: "paperclip.io/agent-id", value: "agent-8" });
    const labelled = uniqueName("labelled");
    const unlabelled = uniqueName("unlabelled");
    const otherValue = uniqueName("other-value");
    sim.createSuspendedJob(labelled, { ...MANAGED_LABELS, "paperclip.io/agent-id": "agent-8" });
    sim.createSuspendedJob(unlabelled);
    sim.createSuspendedJob(otherValue, { ...MANAGED_LABELS, "paperclip.io/agent-id": "agent-9" });
    removeJob(labelled);
    await vi.waitFor(() => expect(events.at(-1)).toMatchObject({ name: labelled, type: "DELETED" }));
    await vi.waitFor(() => expect(watch.get(otherValue)).toBeDefined());
    expect(new Set(events.map((event) => event.name))).toEqual(new Set([labelled]));
  });

  it("re-watches from the last resourceVersion after a cut, without relisting or going down", async () => {
    sim.cluster.faults.cutWatches({ resource: "jobs", afterEvents: 2, count: 1 });
    const listsBefore = requestCount("list");
    const watchesBefore = requestCount("watch");
    const watch = startJobsWatch();
    const statuses = recordStatus(watch);
    await watch.ready();
    const names = [uniqueName("cut"), uniqueName("cut"), uniqueName("cut"), uniqueName("cut")];
    for (const name of names) sim.createSuspendedJob(name);
    await vi.waitFor(() => expect(names.every((name) => watch.get(name))).toBe(true));
    expect(requestCount("list") - listsBefore).toBe(1);
    expect(requestCount("watch") - watchesBefore).toBeGreaterThanOrEqual(2);
    expect(statuses.map((status) => status.state)).not.toContain("down");
  });

  for (const how of ["a 410 ERROR event", "a compacted store"] as const) {
    it(`relists after ${how} and emits the deletion it missed`, async () => {
      const doomed = uniqueName("doomed");
      await createSettledJob(doomed);
      // The first watch ends after one event: the one `trigger` causes below.
      sim.cluster.faults.cutWatches({ resource: "jobs", afterEvents: 1, count: 1 });
      const watch = startJobsWatch();
      await watch.ready();
      await vi.waitFor(() => expect(watch.status().state).toBe("up"));
      const events = recordEvents(watch, doomed);
      const listsBefore = requestCount("list");

      const trigger = uniqueName("trigger");
      sim.createSuspendedJob(trigger);
      // Still in the same tick: the watch is already cut, so this deletion is never streamed.
      removeJob(doomed);
      if (how === "a 410 ERROR event") sim.cluster.faults.goneOnNextWatch("jobs");
      else sim.cluster.store.compact();

      await vi.waitFor(() => expect(events).toContainEqual({ type: "DELETED", name: doomed, value: undefined, synthetic: true }));
      expect(watch.get(doomed)).toBeUndefined();
      expect(watch.get(trigger)).toBeDefined();
      expect(requestCount("list") - listsBefore).toBe(1);
    });
  }

  it("retries a burst of failing LISTs, then becomes ready", async () => {
    const name = uniqueName("burst");
    sim.createSuspendedJob(name);
    sim.cluster.faults.failRequests({ verb: "list", resource: "jobs", response: { kind: "status", status: 500 }, count: 3 });
    const listsBefore = requestCount("list");
    const watch = startJobsWatch();
    await watch.ready();
    expect(watch.get(name)).toBeDefined();
    expect(requestCount("list") - listsBefore).toBe(4);
  });

  it("polls while the watch is down, says so, and stops polling once it is back", async () => {
    sim.cluster.faults.cutWatches({ resource: "jobs", afterEvents: 1, count: 1 });
    const watch = startJobsWatch();
    const statuses = recordStatus(watch);
    await watch.ready();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));

    // Every new watch fails from now on; the next event ends the current one.
    sim.cluster.faults.failRequests({ verb: "watch", resource: "jobs", response: { kind: "status", status: 503 } });
    sim.createSuspendedJob(uniqueName("trigger"));
    await vi.waitFor(() => expect(watch.status()).toMatchObject({ state: "down", polling: true }));
    expect(watch.status().lastError).toBe("HTTP 503 Service Unavailable");

    const polled = uniqueName("polled");
    const events = recordEvents(watch, polled);
    sim.createSuspendedJob(polled);
    await vi.waitFor(() => expect(events).toContainEqual({ type: "ADDED", name: polled, value: undefined, synthetic: true }));

    sim.cluster.faults.clear();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    expect(statuses.map((status) => status.state)).toEqual(["up", "down", "up"]);
    expect(statuses[1]).toMatchObject({ polling: true });

    const listsAfterRecovery = requestCount("list");
    const afterwards = uniqueName("afterwards");
    sim.createSuspendedJob(afterwards);
    await vi.waitFor(() => expect(watch.get(afterwards)).toBeDefined());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(requestCount("list")).toBe(listsAfterRecovery);
  });

  it("restarts a watch that goes silent, and bookmarks keep a quiet watch alive", async () => {
    const silent = startJobsWatch({ idleTimeoutMs: 30 });
    const statuses = recordStatus(silent);
    await silent.ready();
    const watchesBefore = requestCount("watch");
    await vi.waitFor(() => expect(requestCount("watch") - watchesBefore).toBeGreaterThanOrEqual(3));
    const name = uniqueName("after-idle");
    sim.createSuspendedJob(name);
    await vi.waitFor(() => expect(silent.get(name)).toBeDefined());
    expect(statuses.map((status) => status.state)).not.toContain("down");
    await silent.stop();

    const quiet = startJobsWatch({ idleTimeoutMs: 400 });
    await quiet.ready();
    await vi.waitFor(() => expect(quiet.status().state).toBe("up"));
    const quietBefore = requestCount("watch");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(requestCount("watch")).toBe(quietBefore);
  });

  it("replaces a watch that stays connected but delivers nothing, once a list shows what it missed", async () => {
    const watch = startJobsWatch({ silentAfterMs: 300 });
    const statuses = recordStatus(watch);
    await watch.ready();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    const missed = uniqueName("missed");
    const events = recordEvents(watch, missed);
    const listsBefore = requestCount("list");
    const watchesBefore = requestCount("watch");
    expect(sim.cluster.faults.actOnOpenWatches("hold", "jobs")).toBe(1);
    sim.createSuspendedJob(missed);
    await vi.waitFor(() => expect(events).toContainEqual({ type: "ADDED", name: missed, value: undefined, synthetic: true }));
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    const down = statuses.find((status) => status.state === "down");
    expect(down?.lastError).toMatch(/^watch connected but delivered nothing for \d+ s while a list found \d+ change\(s\) it missed; replacing it$/);
    expect(requestCount("list") - listsBefore).toBeGreaterThanOrEqual(1);
    expect(requestCount("watch") - watchesBefore).toBeGreaterThanOrEqual(1);
    // The held stream was closed by the client: one watch open again, and it streams.
    await vi.waitFor(() => expect(sim.cluster.requests.snapshot().openWatches.jobs).toBe(1));
    const later = uniqueName("later");
    sim.createSuspendedJob(later);
    await vi.waitFor(() => expect(watch.get(later)).toBeDefined());
  });

  it("stays down and polls while every new watch is silent too, and comes up once one delivers", async () => {
    const watch = startJobsWatch({ silentAfterMs: 300 });
    const statuses = recordStatus(watch);
    await watch.ready();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    recordEvents(watch, uniqueName("followed"));
    sim.cluster.faults.holdAllWatches("jobs");
    sim.createSuspendedJob(uniqueName("first-missed"));
    await vi.waitFor(() => expect(watch.status()).toMatchObject({ state: "down", polling: true }));
    const polled = uniqueName("polled");
    sim.createSuspendedJob(polled);
    await vi.waitFor(() => expect(watch.get(polled)).toBeDefined());
    // A replacement watch was opened, but it is held as well: still down.
    expect(watch.status().state).toBe("down");
    sim.cluster.faults.actOnOpenWatches("release", "jobs");
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    expect(statuses.map((status) => status.state)).toEqual(["up", "down", "up"]);
  });

  it("keeps a silent watch that missed nothing, and checks nothing while nobody follows it", async () => {
    const watch = startJobsWatch({ silentAfterMs: 200 });
    await watch.ready();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    const listsBefore = requestCount("list");
    const watchesBefore = requestCount("watch");
    sim.cluster.faults.actOnOpenWatches("hold", "jobs");
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(requestCount("list")).toBe(listsBefore);
    recordEvents(watch, uniqueName("followed"));
    // The second check comes twice as late as the first: one that found nothing missed backs off.
    await vi.waitFor(() => expect(requestCount("list") - listsBefore).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    expect(requestCount("watch")).toBe(watchesBefore);
    expect(watch.status().state).toBe("up");
  });

  it("stops cleanly: no open watch, ready() rejects", async () => {
    const watch = startJobsWatch();
    await watch.ready();
    await vi.waitFor(() => expect(sim.cluster.requests.snapshot().openWatches.jobs ?? 0).toBeGreaterThan(0));
    await watch.stop();
    await vi.waitFor(() => expect(sim.cluster.requests.snapshot().openWatches.jobs ?? 0).toBe(0));
    expect(watch.status().state).toBe("stopped");
    await expect(watch.ready()).rejects.toThrow(/stopped/);
  });

  it("ready(signal) says why the first list has not succeeded", async () => {
    sim.cluster.faults.failRequests({ verb: "list", resource: "jobs", response: { kind: "status", status: 500 } });
    const watch = startJobsWatch();
    await expect(watch.ready(AbortSignal.timeout(300))).rejects.toThrow(
      /watch of jobs in namespace "default" is not ready: .*HTTP 500 InternalError/,
    );
  });
});

describe("the Pod watch", () => {
  it("lists and follows managed Pods as typed V1Pod objects", async () => {
    const name = uniqueName("pod");
    sim.cluster.faults.holdInContainerCreating(`${NAMESPACE}/${name}`);
    const lease = acquireSharedWatch(sim.access, NAMESPACE, "pods", FAST);
    await lease.ready();
    const phases: (string | undefined)[] = [];
    lease.subscribe(name, (event) => phases.push(event.type === "DELETED" ? "DELETED" : event.object.status?.phase));
    sim.cluster.store.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NAMESPACE, labels: MANAGED_LABELS },
      spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "registry.example.test/none:1" }] },
    });
    await vi.waitFor(() => expect(lease.get(name)?.spec?.nodeName).toBe("sim-node-1"));
    expect(lease.get(name)?.metadata?.creationTimestamp).toBeInstanceOf(Date);
    sim.cluster.store.remove("pods", NAMESPACE, name);
    await vi.waitFor(() => expect(phases.at(-1)).toBe("DELETED"));
    expect(lease.get(name)).toBeUndefined();
    lease.release();
  });

  it("keeps only what the runtime reads of a pod, the same from the list and from the watch", async () => {
    const podSpec = (name: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: NAMESPACE, labels: MANAGED_LABELS, annotations: { "test/kept": "yes" } },
      spec: {
        restartPolicy: "Never",
        containers: [{ name: "agent", image: "registry.example.test/none:1", command: ["sh", "-c", "sleep 1"], env: [{ name: "BULK", value: "x".repeat(4096) }] }],
      },
    });
    const listed = uniqueName("listed-pod");
    const watched = uniqueName("watched-pod");
    sim.cluster.faults.holdInContainerCreating(`${NAMESPACE}/${listed}`);
    sim.cluster.faults.holdInContainerCreating(`${NAMESPACE}/${watched}`);
    sim.cluster.store.create("pods", podSpec(listed));
    await vi.waitFor(() => expect(sim.cluster.store.get("pods", NAMESPACE, listed)).toMatchObject({ spec: { nodeName: "sim-node-1" } }));
    const lease = acquireSharedWatch(sim.access, NAMESPACE, "pods", FAST);
    await lease.ready();
    sim.cluster.store.create("pods", podSpec(watched));
    await vi.waitFor(() => expect(lease.get(watched)?.spec?.nodeName).toBe("sim-node-1"));
    for (const name of [listed, watched]) {
      const stored = sim.cluster.store.get("pods", NAMESPACE, name);
      const cached = lease.get(name);
      // What the runtime reads, as the API server has it (dates as client-node's models have them)...
      expect(cached?.metadata?.annotations).toEqual(stored?.metadata.annotations);
      expect(cached?.metadata?.creationTimestamp).toBeInstanceOf(Date);
      expect(cached?.status?.phase).toBeDefined();
      expect(stored).toMatchObject({ status: { phase: cached?.status?.phase } });
      expect(cached?.spec?.containers).toEqual([{ name: "agent" }]);
      // ...and nothing of the containers' command and env.
      expect(JSON.stringify(cached)).not.toContain("BULK");
      expect(JSON.stringify(cached)).not.toContain("sleep 1");
    }
    for (const name of [listed, watched]) sim.cluster.store.remove("pods", NAMESPACE, name);
    lease.release();
  });
});

describe("acquireSharedWatch", () => {
  it("serves many runs with ONE list and ONE watch per kind", async () => {
    const listsBefore = { jobs: requestCount("list"), pods: requestCount("list", "pods") };
    const watchesBefore = { jobs: requestCount("watch"), pods: requestCount("watch", "pods") };
    const leases = Array.from({ length: 5 }, () => acquireSharedWatch(sim.access, NAMESPACE, "jobs", FAST));
    const podLeases = Array.from({ length: 3 }, () => acquireSharedWatch(sim.access, NAMESPACE, "pods", FAST));
    await Promise.all([...leases, ...podLeases].map((lease) => lease.ready()));
    const names = leases.map(() => uniqueName("budget"));
    const seen = leases.map((lease, index) => {
      const events: string[] = [];
      lease.subscribe(names[index] ?? "", (event) => events.push(event.type));
      return events;
    });
    for (const name of names) sim.createSuspendedJob(name);
    await vi.waitFor(() => expect(seen.every((events) => events.includes("ADDED"))).toBe(true));
    expect(leases.every((lease) => lease.watch === leases[0]?.watch)).toBe(true);
    expect(requestCount("list") - listsBefore.jobs).toBe(1);
    expect(requestCount("watch") - watchesBefore.jobs).toBe(1);
    expect(requestCount("list", "pods") - listsBefore.pods).toBe(1);
    expect(requestCount("watch", "pods") - watchesBefore.pods).toBe(1);
    for (const lease of [...leases, ...podLeases]) lease.release();
  });

  it("ends a lease's subscriptions on release and stops the watch after the last one", async () => {
    const first = acquireSharedWatch(sim.access, NAMESPACE, "jobs", { ...FAST, lingerMs: 0 });
    const second = acquireSharedWatch(sim.access, NAMESPACE, "jobs");
    await first.ready();
    const name = uniqueName("lease");
    const firstEvents: string[] = [];
    const secondEvents: string[] = [];
    first.subscribe(name, (event) => firstEvents.push(event.type));
    second.subscribe(name, (event) => secondEvents.push(event.type));
    first.release();
    expect(() => first.subscribe(name, () => undefined)).toThrow(/was released/);
    sim.createSuspendedJob(name);
    await vi.waitFor(() => expect(secondEvents).toContain("ADDED"));
    expect(firstEvents).toEqual([]);

    second.release();
    await vi.waitFor(() => expect(first.watch.stopped).toBe(true));
    await vi.waitFor(() => expect(sim.cluster.requests.snapshot().openWatches.jobs ?? 0).toBe(0));
    const again = acquireSharedWatch(sim.access, NAMESPACE, "jobs", FAST);
    expect(again.watch).not.toBe(first.watch);
    await again.ready();
    expect(again.get(name)).toBeDefined();
    again.release();
  });
});


/**
 * kube-apiserver bookmarks a watch once a minute; these servers do it every second, so the runtime's defaults are
 * scaled down 60× with them: `silentAfterMs` 10 s → 200 ms, `idleTimeoutMs` 90 s → 1.5 s.
 */
const SCALED: SharedWatchOptions = { silentAfterMs: 200, idleTimeoutMs: 1_500 };

describe("the silent-watch check against a server that bookmarks every second", () => {
  const slow = useWatchTestCluster({ bookmarkIntervalMs: 1_000 });

  async function followedQuietWatch(): Promise<SharedWatch<"jobs">> {
    const watch = startJobsWatch(SCALED, slow);
    await watch.ready();
    recordEvents(watch, uniqueName("followed"));
    // Two bookmark periods: its first bookmark has taught it the cadence.
    await sleep(2_000);
    return watch;
  }

  it("makes no LIST and opens no new WATCH while a followed watch is quiet, once it has learned the cadence", async () => {
    const watch = await followedQuietWatch();
    const lists = requestCount("list", "jobs", slow);
    const watches = requestCount("watch", "jobs", slow);
    await sleep(5_000);
    expect(requestCount("list", "jobs", slow) - lists).toBe(0);
    expect(requestCount("watch", "jobs", slow) - watches).toBe(0);
    expect(watch.status().state).toBe("up");
  });

  it("still finds a watch that stays connected but delivers nothing, and replaces it", async () => {
    const watch = await followedQuietWatch();
    const statuses = recordStatus(watch);
    const missed = uniqueName("missed");
    const events = recordEvents(watch, missed);
    expect(slow.cluster.faults.actOnOpenWatches("hold", "jobs")).toBe(1);
    slow.createSuspendedJob(missed);
    await vi.waitFor(() => expect(events).toContainEqual({ type: "ADDED", name: missed, value: undefined, synthetic: true }), { timeout: 10_000 });
    await vi.waitFor(() => expect(watch.status().state).toBe("up"), { timeout: 10_000 });
    expect(statuses.find((status) => status.state === "down")?.lastError).toMatch(/^watch connected but delivered nothing for \d+ s while a list found 1 change\(s\) it missed; replacing it$/);
  });
});

describe("the silent-watch check against a server that sends no bookmarks", () => {
  const silent = useWatchTestCluster({ bookmarkIntervalMs: 0 });

  it("checks a followed quiet watch after silentAfterMs, then less and less often while nothing was missed", async () => {
    const watch = startJobsWatch(SCALED, silent);
    await watch.ready();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    recordEvents(watch, uniqueName("followed"));
    const lists = requestCount("list", "jobs", silent);
    await sleep(3_000);
    // At 200, 600, 1,400 and 3,000 ms: at most four, where a check every 200 ms would have made fifteen.
    const checks = requestCount("list", "jobs", silent) - lists;
    expect(checks).toBeGreaterThanOrEqual(1);
    expect(checks).toBeLessThanOrEqual(4);
  });

  it("finds a watch that missed a change after silentAfterMs", async () => {
    const watch = startJobsWatch({ silentAfterMs: 200, idleTimeoutMs: 60_000 }, silent);
    await watch.ready();
    await vi.waitFor(() => expect(watch.status().state).toBe("up"));
    const missed = uniqueName("missed");
    const events = recordEvents(watch, missed);
    expect(silent.cluster.faults.actOnOpenWatches("hold", "jobs")).toBe(1);
    silent.createSuspendedJob(missed);
    await vi.waitFor(() => expect(events).toContainEqual({ type: "ADDED", name: missed, value: undefined, synthetic: true }), { timeout: 10_000 });
    expect(watch.status()).toMatchObject({ state: "down", lastError: expect.stringMatching(/^watch connected but delivered nothing for \d+ s while a list found 1 change\(s\) it missed/) });
  });
});
