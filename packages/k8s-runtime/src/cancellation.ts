import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import { deleteJob } from "./cleanup.ts";
import type { ClusterAccess } from "./cluster-access.ts";
import { failedRunResult } from "./errors.ts";
import type { JobTracker } from "./job-tracker.ts";

/**
 * Step 11, cancellation: how a run learns that the operator pressed Stop. Servers that pass
 * `ctx.signal` abort it; older ones don't, so the run polls its own status at keepalive cadence.
 * Only the status `cancelled` means cancel: a 5xx, a timeout or a network error never does.
 */
export type CancellationSource = "signal" | "run-status";

export interface RunStatusPoll {
  /** `PAPERCLIP_API_URL` as the server sees it. */
  apiUrl: string;
  runId: string;
  /** The run JWT, sent as a bearer token. */
  token: string;
  intervalMs: number;
  /** Injected for tests; defaults to global fetch. */
  fetchImpl?: typeof fetch;
}

export interface CancellationWatch {
  /** Resolves with what cancelled the run; never resolves if nothing does. */
  readonly cancelled: Promise<CancellationSource>;
  /** True once cancellation was requested (synchronous view of `cancelled`). */
  readonly requested: boolean;
  stop(): void;
}

const RUN_STATUS_TIMEOUT_MS = 10_000;

/** Reads the run's status; null when it cannot be known (any error or non-JSON answer). */
export async function fetchRunStatus(poll: RunStatusPoll): Promise<string | null> {
  const url = `${poll.apiUrl.replace(/\/+$/, "")}/api/heartbeat-runs/${encodeURIComponent(poll.runId)}`;
  try {
    const response = await (poll.fetchImpl ?? fetch)(url, {
      headers: { authorization: `Bearer ${poll.token}`, accept: "application/json" },
      signal: AbortSignal.timeout(RUN_STATUS_TIMEOUT_MS),
    });
    if (!response.ok) return null;
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null || !("status" in body)) return null;
    return typeof body.status === "string" ? body.status : null;
  } catch {
    return null;
  }
}

export function watchCancellation(signal: AbortSignal | undefined, poll: RunStatusPoll | null): CancellationWatch {
  let resolve: (source: CancellationSource) => void = () => {};
  let requested = false;
  const cancelled = new Promise<CancellationSource>((done) => {
    resolve = (source) => {
      if (requested) return;
      requested = true;
      done(source);
    };
  });
  const onAbort = () => resolve("signal");
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  if (signal) {
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  } else if (poll) {
    const check = async () => {
      if (stopped) return;
      if ((await fetchRunStatus(poll)) === "cancelled") resolve("run-status");
      else if (!stopped) timer = setTimeout(check, poll.intervalMs);
    };
    timer = setTimeout(check, poll.intervalMs);
  }

  return {
    cancelled,
    get requested() {
      return requested;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

let shuttingDown = false;
let shutdownHookInstalled = false;

/**
 * True once this process received SIGTERM. A run aborted because the server is going down must not
 * delete its Job: the Job keeps working, and the next run of the agent reattaches to it.
 */
export function serverIsShuttingDown(): boolean {
  return shuttingDown;
}

export function installShutdownHook(): void {
  if (shutdownHookInstalled) return;
  shutdownHookInstalled = true;
  const onTerm = () => {
    shuttingDown = true;
    // Our listener must not keep a server alive that had no SIGTERM handler of its own.
    if (process.listenerCount("SIGTERM") === 0) process.kill(process.pid, "SIGTERM");
  };
  process.once("SIGTERM", onTerm);
}

/** A cancelled run, acknowledged the way Paperclip's Stop expects. */
export function acknowledgeCancellation(message: string, forced: boolean): AdapterExecutionResult {
  return {
    ...failedRunResult("cancelled", message),
    resultJson: { executionCancellation: { state: "acknowledged", acknowledgedAt: new Date().toISOString(), forced } },
  };
}

/** How long a cancelled run waits for its pod to stop before acknowledging anyway (marked forced). */
const POD_STOP_WAIT_MS = 30_000;

/**
 * Ends a cancelled run's Job: Background deletion takes the pod and the Secret with it; the run
 * waits for the pod to stop. On the server's own shutdown the Job is left running for the next run
 * to reattach. The caller cleans up files afterwards.
 */
export async function stopCancelledJob(cluster: ClusterAccess, tracker: JobTracker, namespace: string): Promise<AdapterExecutionResult> {
  const job = `${namespace}/${tracker.jobName}`;
  if (serverIsShuttingDown()) {
    return failedRunResult("cancelled", `The Paperclip server is shutting down; Job ${job} keeps running and the next run of this agent reattaches to it.`);
  }
  await deleteJob(cluster, namespace, tracker.jobName);
  const stopped = await tracker.awaitPodStopped(POD_STOP_WAIT_MS);
  return acknowledgeCancellation(`Cancelled; Job ${job} deleted`, !stopped);
}
