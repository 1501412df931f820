/**
 * One benchmark batch: runs through an adapter's real `execute()` on the sim (in its own process), at most
 * `concurrency` at a time (a new one starts as soon as one ends), each run's fake agent printing one stamped
 * line a second for the batch's duration and recording when it exits (see `stampedLines` / `recordExitTo` in
 * fake-agent.mjs).
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
// The run context alone, not the testing kit's index: that would load our runtime, client-node and the sim into a
// process that may be running another adapter, whose heap must hold only that adapter's code.
import { recordedRun } from "../../packages/k8s-runtime/src/testing/run-context.ts";
import type { BenchCluster } from "./sim-client.ts";
import type { SimMeasure } from "./sim-protocol.ts";
import { calibrateInstruments, measureUsage, type AfterFullGc, type BatchUsage } from "./usage.ts";

/** The fake agent's options a bench run uses (fake-agent.mjs). */
interface BenchScenario {
  stampedLines: { count: number; intervalMs: number };
  recordExitTo: string;
  /** Played after the stamped lines, so the run ends with the CLI's real terminal event. */
  transcript: string;
}

const LINE_INTERVAL_MS = 1000;
const PROGRESS_EVERY_MS = 10_000;

export interface BatchInput {
  label: string;
  cluster: BenchCluster;
  adapter: ServerAdapterModule;
  adapterType: string;
  /** Recorded transcript played at the end of each run, e.g. `claude/happy`. */
  transcript: string;
  /** Runs in the batch. */
  runs: number;
  /** Runs in flight at once. */
  concurrency: number;
  durationSec: number;
  onProgress: (text: string) => void;
  /** What the Paperclip server prepares for a run before `execute()` beyond the workspace, if the adapter needs it. */
  prepareRun?: (ids: { companyId: string; agentId: string }) => Promise<void>;
  /** Right after the full GC before the batch and the one once every run streams (`--heap-snapshots`). */
  afterFullGc?: AfterFullGc;
}

export interface RunOutcome {
  runId: string;
  ok: boolean;
  /** Why the run does not count as a success; null when it does. */
  problem: string | null;
  exitCode: number | null;
  errorCode: string | null;
  stampedLinesReceived: number;
  /** From calling `execute()` to its return. */
  executeMs: number;
  /** From the agent's exit to `execute()` returning. */
  exitToReturnMs: number | null;
  /** From the agent's exit to the Job's deletion by the runtime: completion detected and the output drained. */
  exitToJobDeleteMs: number | null;
}

export interface BatchResult {
  label: string;
  runs: number;
  concurrency: number;
  durationSec: number;
  outcomes: RunOutcome[];
  /** Every stamped line of every run. */
  lines: LineSample[];
  /** The sim process's counters and CPU for the batch. */
  sim: SimMeasure;
  usage: BatchUsage;
}

interface Stamp {
  seq: number;
  writtenAt: number;
}

export interface LineSample extends Stamp {
  /** From the pod's write to `onLog`. */
  latencyMs: number;
}

const STAMP_PREFIX = '{"type":"bench"';

function stampOf(chunk: string): Stamp | null {
  if (!chunk.startsWith(STAMP_PREFIX)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(chunk);
  } catch {
    return null; // a cut line counts as missing
  }
  if (typeof parsed !== "object" || parsed === null || !("seq" in parsed) || !("writtenAt" in parsed)) return null;
  const { seq, writtenAt } = parsed;
  return typeof seq === "number" && typeof writtenAt === "number" ? { seq, writtenAt } : null;
}

async function readEpochMs(file: string): Promise<number | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  const value = text === null ? Number.NaN : Number(text.trim());
  return Number.isFinite(value) ? value : null;
}

function problemWith(result: AdapterExecutionResult | undefined, thrown: unknown, linesMissing: number, orderProblem: string | null, exitKnown: boolean): string | null {
  if (thrown !== undefined) return `execute() threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`;
  if (!result) return "execute() returned nothing";
  if (result.exitCode !== 0 || result.errorCode) return `exit ${result.exitCode}, ${result.errorCode ?? "no error code"}: ${result.errorMessage ?? ""}`;
  if (linesMissing !== 0) return `${linesMissing} stamped lines missing`;
  if (orderProblem) return orderProblem;
  if (!exitKnown) return "the agent's exit time was not recorded";
  return null;
}

export async function runBatch(input: BatchInput): Promise<BatchResult> {
  const lines: LineSample[] = [];
  let finished = 0;
  /** Runs whose first stamped line arrived; once it equals the batch's runs while none has finished, every run is live. */
  let streaming = 0;
  let onEveryRunStreaming = () => {};
  const progress = setInterval(
    () => input.onProgress(`${input.label}: ${finished}/${input.runs} runs finished, ${lines.length} stamped lines received`),
    PROGRESS_EVERY_MS,
  );

  /** A run's outcome, the Job's deletion time filled in once the batch is over (the sim process knows it). */
  const runOne = async (): Promise<Omit<RunOutcome, "exitToJobDeleteMs"> & { exitedAt: number | null }> => {
    const runId = randomUUID();
    const agentId = randomUUID();
    // Each agent's pod mounts only its own workspace: the stand-in records its exit time there.
    const workspace = await input.cluster.workspace(agentId);
    const exitFile = path.join(workspace, `${runId}.exit`);
    const scenario: BenchScenario = {
      stampedLines: { count: input.durationSec, intervalMs: LINE_INTERVAL_MS },
      recordExitTo: exitFile,
      transcript: input.transcript,
    };
    const run = recordedRun({
      adapterType: input.adapterType,
      runId,
      agentId,
      taskId: `BENCH-${runId.slice(0, 8)}`,
      workspaceCwd: workspace,
      config: input.cluster.config({ promptTemplate: `FAKE_AGENT_SCENARIO ${JSON.stringify(scenario)}`, timeoutSec: input.durationSec + 600 }),
    });
    await input.prepareRun?.({ companyId: run.ctx.agent.companyId, agentId });
    let received = 0;
    let orderProblem: string | null = null;
    // Replaces the recording onLog: a bench run keeps only the latency of each stamped line.
    run.ctx.onLog = async (stream, chunk) => {
      const receivedAt = Date.now();
      const stamp = stream === "stdout" ? stampOf(chunk) : null;
      if (!stamp) return;
      lines.push({ ...stamp, latencyMs: receivedAt - stamp.writtenAt });
      if (stamp.seq !== received) orderProblem ??= `stamped line ${stamp.seq} arrived as line ${received}`;
      if (received === 0 && ++streaming === input.runs && finished === 0) setImmediate(onEveryRunStreaming);
      received++;
    };
    const startedAt = performance.now();
    let result: AdapterExecutionResult | undefined;
    let thrown: unknown;
    try {
      result = await input.adapter.execute(run.ctx);
    } catch (error) {
      thrown = error;
    }
    const returnedAt = Date.now();
    const executeMs = performance.now() - startedAt;
    finished++;
    const exitedAt = await readEpochMs(exitFile);
    const problem = problemWith(result, thrown, input.durationSec - received, orderProblem, exitedAt !== null);
    return {
      runId,
      ok: problem === null,
      problem,
      exitCode: result?.exitCode ?? null,
      errorCode: result?.errorCode ?? null,
      stampedLinesReceived: received,
      executeMs,
      exitToReturnMs: exitedAt === null ? null : returnedAt - exitedAt,
      exitedAt,
    };
  };

  const instruments = await calibrateInstruments();
  await input.cluster.reset();
  const usage = measureUsage(instruments, input.afterFullGc);
  onEveryRunStreaming = usage.liveHeap;
  try {
    const ran: Awaited<ReturnType<typeof runOne>>[] = [];
    let started = 0;
    const lane = async () => {
      while (started < input.runs) {
        started++;
        ran.push(await runOne());
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.concurrency, input.runs) }, lane));
    const measuredUsage = usage.stop();
    const sim = await input.cluster.measure();
    const outcomes = ran.map(({ exitedAt, ...outcome }): RunOutcome => {
      const deletedAt = sim.jobDeletedAt[outcome.runId];
      return { ...outcome, exitToJobDeleteMs: exitedAt === null || deletedAt === undefined ? null : deletedAt - exitedAt };
    });
    return { label: input.label, runs: input.runs, concurrency: input.concurrency, durationSec: input.durationSec, outcomes, lines, sim, usage: measuredUsage };
  } finally {
    clearInterval(progress);
  }
}
