import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { processClock } from "./poll-clock.ts";
import type { SharedWatch, WatchStatus } from "./shared-watch.ts";

const JOB_NAME_LABEL = "job-name";

/**
 * One run's view of its Job and the Job's pod, read from the shared watches' caches. Waiters are
 * woken on every event for that Job or its pods; nothing here makes an API request.
 */
export class JobTracker {
  readonly jobName: string;
  readonly #jobs: SharedWatch<"jobs">;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #waiters = new Set<() => void>();
  #jobSeen = false;
  #jobDeleted = false;
  #lastJob: V1Job | undefined;
  #lastPod: V1Pod | undefined;
  #podDeleted = false;
  /** The Job's pods in the shared cache, kept from its events: reading them must not scan every run's pods. */
  readonly #livePods = new Map<string, V1Pod>();

  constructor(jobs: SharedWatch<"jobs">, pods: SharedWatch<"pods">, jobName: string) {
    this.jobName = jobName;
    this.#jobs = jobs;
    const ofThisJob = (pod: V1Pod) => pod.metadata?.labels?.[JOB_NAME_LABEL] === jobName;
    this.#unsubscribe.push(
      jobs.subscribe(jobName, (event) => {
        if (event.type === "DELETED") this.#jobDeleted = true;
        else {
          this.#jobSeen = true;
          this.#jobDeleted = false;
        }
        this.#lastJob = event.object;
        this.#wake();
      }),
      pods.subscribe({ label: JOB_NAME_LABEL, value: jobName }, (event) => {
        const name = event.object.metadata?.name ?? "";
        if (event.type === "DELETED") this.#livePods.delete(name);
        else this.#livePods.set(name, event.object);
        this.#podDeleted = event.type === "DELETED";
        this.#lastPod = event.object;
        this.#wake();
      }),
      jobs.onStatus(() => this.#wake()),
    );
    // Pods already in the cache (a reattached run's); from here on the events keep the map.
    for (const pod of pods.list(ofThisJob)) this.#livePods.set(pod.metadata?.name ?? "", pod);
    const current = jobs.get(jobName);
    if (current) {
      this.#jobSeen = true;
      this.#lastJob = current;
    }
  }

  /** The Job as last seen (also after it was deleted). */
  job(): V1Job | undefined {
    return this.#jobs.get(this.jobName) ?? this.#lastJob;
  }

  /** The Job's newest pod, as last seen (also after it was deleted). */
  pod(): V1Pod | undefined {
    let newest: V1Pod | undefined;
    for (const pod of this.#livePods.values()) if (newest === undefined || timeOf(pod) > timeOf(newest)) newest = pod;
    return newest ?? this.#lastPod;
  }

  /**
   * True when the Job existed and is gone now, or is being deleted: Foreground propagation keeps it, with a
   * deletionTimestamp, until its pods are gone, and the pod's end must not read as the agent's own.
   */
  jobGone(): boolean {
    if (this.#jobs.get(this.jobName)?.metadata?.deletionTimestamp) return true;
    return this.#jobSeen && this.#jobDeleted && !this.#jobs.get(this.jobName);
  }

  /** True when the newest pod we saw has been deleted. */
  podGone(): boolean {
    return this.#podDeleted && this.pod() === this.#lastPod;
  }

  /** The Job's terminal condition (`Complete` or `Failed`), if it has one. */
  terminalCondition(): { type: "Complete" | "Failed"; reason?: string; message?: string } | undefined {
    for (const condition of this.job()?.status?.conditions ?? []) {
      if ((condition.type === "Complete" || condition.type === "Failed") && condition.status === "True") {
        return { type: condition.type, reason: condition.reason, message: condition.message };
      }
    }
    return undefined;
  }

  watchStatus(): WatchStatus {
    return this.#jobs.status();
  }

  /** Resolves on the next event about this Job or its pods, after `timeoutMs`, or on `signal`, whichever is first. */
  nextChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        cancelTimeout();
        signal?.removeEventListener("abort", done);
        // A waiter that timed out leaves: a quiet run waiting in a loop must not pile them up.
        this.#waiters.delete(done);
        resolve();
      };
      // The timeout is a fallback for a missed event: the process clock may run it a little late, with other runs'.
      const cancelTimeout = processClock.after(timeoutMs, done);
      if (signal?.aborted) return done();
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.add(done);
    });
  }

  /** After deleting the Job: resolves true once its pod is gone, terminating or terminal; false after `timeoutMs`. */
  async awaitPodStopped(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pod = this.pod();
      const phase = pod?.status?.phase;
      if (!pod || this.podGone() || pod.metadata?.deletionTimestamp || phase === "Succeeded" || phase === "Failed") return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await this.nextChange(Math.min(remaining, 1_000));
    }
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function timeOf(pod: V1Pod): number {
  const created = pod.metadata?.creationTimestamp;
  return created ? new Date(created).getTime() : 0;
}
