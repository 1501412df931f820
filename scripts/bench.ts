/**
 * DESIGN §8, measured: N concurrent runs through an adapter's real execute() on a simulated cluster that runs
 * in its own process (so this process's CPU and heap are the runtime's alone), each run's stand-in agent
 * printing a stamped line every second for the given duration. Prints API requests and TCP connections per run
 * (and whether they stay the same for a short batch), completion and output latency, CPU and memory of this
 * process, optionally a soak of many short runs, and writes the numbers to bench-results/.
 *
 *   npm run bench -- [--runs 50 | --runs 50,200,1000] [--duration-sec 60] [--adapter claude|opencode] [--soak 5000]
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { claudeAgent, createServerAdapter as createClaudeAdapter } from "paperclip-adapter-claude-k8s";
import { createServerAdapter as createOpenCodeAdapter, opencodeAgent } from "paperclip-adapter-opencode-k8s";
import type { AgentDefinition } from "paperclip-k8s-runtime";
import { stopReapers, stopSharedWatches } from "paperclip-k8s-runtime";
import { runBatch, type BatchResult } from "./bench/batch.ts";
import { parseBenchOptions, type AdapterName, type BenchOptions } from "./bench/options.ts";
import { formatReport, machineInfo, MAIN_LABEL, sameRequestsPerRun, SHORT_LABEL, SOAK_LABEL, summarizeBatch, type BenchReport } from "./bench/report.ts";
import { startBenchSim, type BenchCluster } from "./bench/sim-client.ts";

/** The second batch's agents run this long: requests per run must not depend on it. */
const SHORT_BATCH_SEC = 2;
/** A soak run's agent runs this long: the soak is about what finished runs leave behind. */
const SOAK_RUN_SEC = 1;
const RESULTS_DIR = path.join(import.meta.dirname, "..", "bench-results");

interface BenchTarget {
  agent: AgentDefinition<unknown>;
  adapter: ServerAdapterModule;
  /** Fixture directory of the CLI's recorded transcripts. */
  cli: string;
}

function targetFor(name: AdapterName): BenchTarget {
  return name === "claude"
    ? { agent: claudeAgent, adapter: createClaudeAdapter(), cli: "claude" }
    : { agent: opencodeAgent, adapter: createOpenCodeAdapter(), cli: "opencode" };
}

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);

async function runBatches(options: BenchOptions, target: BenchTarget, cluster: BenchCluster): Promise<BatchResult[]> {
  const [smallest = 1] = options.runs;
  const batch = (label: string, durationSec: number, runs: number, concurrency = runs) => {
    progress(`${label}: ${runs} runs of ${durationSec} s, ${Math.min(runs, concurrency)} at a time`);
    return runBatch({
      label,
      cluster,
      adapter: target.adapter,
      adapterType: target.agent.type,
      transcript: `${target.cli}/happy`,
      runs,
      concurrency,
      durationSec,
      onProgress: progress,
    });
  };
  // One run first, not reported: the modules a run loads lazily and the JIT's first compilations are a cost
  // of the process, once, not of the runs measured after it.
  await batch("warm-up", SHORT_BATCH_SEC, 1);
  const batches: BatchResult[] = [];
  for (const runs of options.runs) batches.push(await batch(MAIN_LABEL, options.durationSec, runs));
  batches.push(await batch(SHORT_LABEL, SHORT_BATCH_SEC, smallest));
  if (options.soak > 0) batches.push(await batch(SOAK_LABEL, SOAK_RUN_SEC, options.soak, smallest));
  return batches;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const startedAt = new Date();
  const target = targetFor(options.adapter);
  const cluster = await startBenchSim(options.adapter, Math.max(...options.runs) + 10);
  let batches: BatchResult[];
  try {
    batches = await runBatches(options, target, cluster);
  } finally {
    stopReapers();
    await stopSharedWatches();
    await cluster.stop();
  }
  const summaries = batches.map(summarizeBatch);
  const main = summaries.find((summary) => summary.label === MAIN_LABEL);
  const short = summaries.find((summary) => summary.label === SHORT_LABEL);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    machine: machineInfo(),
    options,
    adapterType: target.agent.type,
    batches: summaries,
    requestsPerRunConstant: main !== undefined && short !== undefined && sameRequestsPerRun(main, short),
    allSucceeded: summaries.every((summary) => summary.succeeded === summary.runs),
  };
  console.log(formatReport(report));
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nNumbers written to ${path.relative(process.cwd(), file)}`);
  return report.allSucceeded ? 0 : 1;
}

process.exitCode = await main();
