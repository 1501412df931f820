import { processClock } from "./poll-clock.ts";
import type { RunLog } from "./run-log.ts";

/**
 * Step 11, liveness: while the agent is silent, say so in the run log every `intervalMs`, so the
 * operator (and Paperclip's stale-run detection) sees the run is alive. Agent output resets the timer.
 * The looks run on the process clock, with other runs' waits.
 */
export interface Keepalive {
  /** Call on every line the agent prints. */
  activity(): void;
  stop(): void;
}

export function startKeepalive(log: RunLog, intervalMs: number, describe: () => string): Keepalive {
  let lastActivity = Date.now();
  let cancelLook = processClock.after(intervalMs, look);
  function look(): void {
    const silentMs = Date.now() - lastActivity;
    if (silentMs >= intervalMs) void log.info(`keepalive: agent silent for ${Math.round(silentMs / 1000)}s; ${describe()}`);
    cancelLook = processClock.after(intervalMs, look);
  }
  return {
    activity: () => {
      lastActivity = Date.now();
    },
    stop: () => cancelLook(),
  };
}
