import { existsSync } from "node:fs";
import type { AdapterExecutionContext } from "@paperclipai/adapter-utils";
import { expect, it } from "vitest";
import { runDirectoryFor } from "../../run-directory.ts";
import type { ConformanceContext } from "../conformance-context.ts";

type ContextChange = (ctx: AdapterExecutionContext) => AdapterExecutionContext;

const databaseHiccup = (): Error => new Error("database connection lost");

/** `onLog` rejecting on the calls `fails` picks (1-based), after recording what it was given like Paperclip would. */
function failingOnLog(fails: (call: number) => boolean): ContextChange {
  return (ctx) => {
    let calls = 0;
    return {
      ...ctx,
      onLog: async (stream, chunk) => {
        calls++;
        if (fails(calls)) throw databaseHiccup();
        await ctx.onLog(stream, chunk);
      },
    };
  };
}

/** DESIGN §3: nothing throws past `execute()`. A callback of Paperclip's that fails still ends in a result and a cleanup. */
export function callbackFailureScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  const cases: [string, ContextChange, string][] = [
    ["onLog rejecting on every call", failingOnLog(() => true), "onLog"],
    ["onLog rejecting on the 3rd call", failingOnLog((call) => call === 3), "onLog"],
    [
      "onMeta throwing",
      (ctx) => ({
        ...ctx,
        onMeta: () => {
          throw databaseHiccup();
        },
      }),
      "onMeta",
    ],
  ];
  it.each(cases)("%s: the run still ends in its result, with the Job, pod, Secret and run directory gone", async (_name, change, callback) => {
    const t = get();
    const happy = t.options.transcripts.happy;
    const { result, run, agentId } = await t.run({ scenario: { transcript: t.transcript(happy) }, adaptContext: change });
    const expected = t.expectedVerdict(happy);
    expect(result.exitCode).toBe(0);
    expect(result.errorCode ?? null).toBe(expected.errorCode ?? null);
    expect(result.summary).toBe(expected.summary);
    // Said once, in the result, with how often it failed.
    const failures = result.resultJson?.callbackFailures;
    expect(failures).toMatchObject({ [callback]: { firstError: "database connection lost" } });
    await t.expectCleanCluster(agentId);
    const { dir } = runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, companyId: run.ctx.agent.companyId, agentId, runId: run.ctx.runId });
    expect(existsSync(dir)).toBe(false);
  });
}
