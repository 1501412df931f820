import type { AdapterExecutionContext } from "@paperclipai/adapter-utils";

/** The runtime's own lines in the run log, marked `[paperclip]` like the local adapters' notices. */
export interface RunLog {
  info(message: string): Promise<void>;
  /**
   * Emits `message` unless it is the last one posted under `key` (state changes are posted once, not on
   * every event). True when it was posted.
   */
  once(key: string, message: string): Promise<boolean>;
}

export function runLogFor(ctx: Pick<AdapterExecutionContext, "onLog">): RunLog {
  const last = new Map<string, string>();
  const info = (message: string) => ctx.onLog("stdout", `[paperclip] ${message}\n`);
  return {
    info,
    async once(key, message) {
      if (last.get(key) === message) return false;
      last.set(key, message);
      await info(message);
      return true;
    },
  };
}
