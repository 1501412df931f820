import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { startKeepalive } from "./keepalive.ts";
import { runLogFor } from "./run-log.ts";

function recordingLog(): { lines: string[]; log: ReturnType<typeof runLogFor> } {
  const lines: string[] = [];
  return { lines, log: runLogFor({ onLog: async (_stream, chunk) => void lines.push(chunk) }) };
}

describe("startKeepalive", () => {
  it("says in the run log that a silent agent is alive, every interval, with what the watch knows", async () => {
    const { lines, log } = recordingLog();
    const keepalive = startKeepalive(log, 40, () => "pod running");
    try {
      await vi.waitFor(() => expect(lines.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
      expect(lines[0]).toMatch(/keepalive: agent silent for \d+s; pod running/);
    } finally {
      keepalive.stop();
    }
  });

  it("says nothing while the agent prints, and nothing after stop()", async () => {
    const { lines, log } = recordingLog();
    const keepalive = startKeepalive(log, 200, () => "pod running");
    for (let elapsed = 0; elapsed < 600; elapsed += 20) {
      keepalive.activity();
      await delay(20);
    }
    expect(lines).toEqual([]);
    keepalive.stop();
    await delay(500);
    expect(lines).toEqual([]);
  });
});
