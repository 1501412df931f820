import { expect, it } from "vitest";
import type { ConformanceContext } from "../conformance-context.ts";

/** Output edge cases between the agent's writes and `onLog`. */
export function outputScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("a last line without a newline is still emitted", async () => {
    const t = get();
    const { run } = await t.run({ scenario: { chunks: [{ text: '{"type":"first"}\n' }, { text: '{"type":"last","no":"newline"}' }] } });
    expect(run.transcript()).toEqual(['{"type":"first"}\n', '{"type":"last","no":"newline"}\n']);
  });

  it("lines the agent writes as it exits, while a slow onLog still holds an earlier line, all arrive", async () => {
    const t = get();
    // Paperclip's onLog awaits a database write; here the agent's first line takes 800 ms to store, and the agent
    // writes its last lines and exits meanwhile.
    const { result, run } = await t.run({
      scenario: { chunks: [{ text: '{"type":"first"}\n' }, { text: '{"type":"second"}\n{"type":"last"}\n', delayMs: 200 }] },
      adaptContext: (ctx) => ({
        ...ctx,
        onLog: async (stream, chunk) => {
          if (chunk.startsWith('{"type":"first"}')) await new Promise((resolve) => setTimeout(resolve, 800));
          await ctx.onLog(stream, chunk);
        },
      }),
    });
    expect(result.exitCode).toBe(0);
    expect(run.transcript()).toEqual(['{"type":"first"}\n', '{"type":"second"}\n', '{"type":"last"}\n']);
  });

  it("a multi-byte character split across reads arrives intact", async () => {
    const t = get();
    const bytes = Buffer.from('{"text":"αβγ ✓ done"}\n', "utf8");
    const splitAt = bytes.indexOf(Buffer.from("✓", "utf8")) + 1;
    const { run } = await t.run({
      scenario: {
        chunks: [
          { base64: bytes.subarray(0, splitAt).toString("base64") },
          { base64: bytes.subarray(splitAt).toString("base64"), delayMs: 600 },
        ],
      },
    });
    expect(run.transcript()).toEqual(['{"text":"αβγ ✓ done"}\n']);
  });

  it("a 5 MiB single line: the run completes, the line is cut with a marker, the next line survives", async () => {
    const t = get();
    const { result, run } = await t.run({ scenario: { bigLineBytes: 5 * 1024 * 1024, chunks: [{ text: '{"after":"big"}\n' }] } });
    const lines = run.transcript();
    expect(result.exitCode).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines[0]?.length).toBeLessThan(2 * 1024 * 1024);
    expect(lines[0]).toMatch(/line truncated/);
    expect(lines[1]).toBe('{"after":"big"}\n');
  });

  it("a 2 MiB prompt reaches the agent whole, and never the Job spec", async () => {
    const t = get();
    const agentId = crypto.randomUUID();
    const recording = await t.recordingPath(agentId, "prompt.json");
    const padding = "p".repeat(2 * 1024 * 1024);
    let jobSpecBytes = 0;
    const { result } = await t.run({
      agentId,
      promptPadding: padding,
      scenario: { recordInvocationTo: recording },
      during: async () => {
        const job = await (async () => {
          for (;;) {
            const found = t.cluster.sim.store.list("jobs").items.find((object) => object.metadata.labels?.["paperclip.io/agent-id"] === agentId);
            if (found) return found;
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        jobSpecBytes = JSON.stringify(job).length;
      },
    });
    expect(result.exitCode).toBe(0);
    expect((await t.readRecording(recording)).promptBytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(jobSpecBytes).toBeGreaterThan(0);
    expect(jobSpecBytes).toBeLessThan(64 * 1024);
  });
}
