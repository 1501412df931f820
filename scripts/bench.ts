/**
 * DESIGN §8, measured: N concurrent runs through an adapter's real execute() on ONE embedded
 * simulated cluster, each run's stand-in agent printing a stamped line every second for the given
 * duration. Prints API requests per run (and whether they stay the same for a short batch), completion
 * and output latency, CPU and memory of this process, and writes the numbers to bench-results/.
 *
 *   npm run bench -- [--runs 50] [--duration-sec 60] [--adapter claude|opencode]
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { claudeAgent, createServerAdapter as createClaudeAdapter } from "paperclip-adapter-claude-k8s";
import { createServerAdapter as createOpenCodeAdapter, opencodeAgent } from "paperclip-adapter-opencode-k8s";
import type { AgentDefinition } from "paperclip-k8s-runtime";
import { stopReapers, stopSharedWatches } from "paperclip-k8s-runtime";
import { startConformanceCluster, type ConformanceCluster } from "paperclip-k8s-runtime/testing";
import type { SimCluster } from "paperclip-k8s-sim";
import { runBatch, type BatchResult } from "./bench/batch.ts";
import { parseBenchOptions, type AdapterName, type BenchOptions } from "./bench/options.ts";
import { formatReport, machineInfo, sameRequestsPerRun, summarizeBatch, type BenchReport } from "./bench/report.ts";

/** The second batch's agents run this long: requests per run must not depend on it. */
const SHORT_BATCH_SEC = 2;
/** The sim's node takes kubelet's default of 110 pods; a bigger batch gets a node with room for every run. */
const DEFAULT_NODE_PODS = 110;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function makeRoomForPods(sim: SimCluster, pods: number): void {
  if (pods <= DEFAULT_NODE_PODS) return;
  for (const node of sim.store.list("nodes").items) {
    sim.store.mutate("nodes", undefined, node.metadata.name ?? "", (object) => {
      if (!isRecord(object.status)) return;
      for (const field of ["capacity", "allocatable"]) {
        const resources = object.status[field];
        if (isRecord(resources)) resources.pods = String(pods);
      }
    });
  }
}

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);

async function runBatches(options: BenchOptions, target: BenchTarget, cluster: ConformanceCluster): Promise<BatchResult[]> {
  const batch = (label: string, durationSec: number) => {
    progress(`${label}: ${options.runs} concurrent runs of ${durationSec} s`);
    return runBatch({
      label,
      cluster,
      adapter: target.adapter,
      adapterType: target.agent.type,
      transcript: `${target.cli}/happy`,
      runs: options.runs,
      durationSec,
      onProgress: progress,
    });
  };
  return [await batch("main", options.durationSec), await batch("short", SHORT_BATCH_SEC)];
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
  const cluster = await startConformanceCluster(target.agent);
  let batches: BatchResult[];
  try {
    makeRoomForPods(cluster.sim, options.runs + 10);
    batches = await runBatches(options, target, cluster);
  } finally {
    stopReapers();
    await stopSharedWatches();
    await cluster.stop();
  }
  const summaries = batches.map(summarizeBatch);
  const [main, short] = summaries;
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
