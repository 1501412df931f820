/**
 * DESIGN §8, measured: N concurrent runs through an adapter's real execute() on a simulated cluster that runs
 * in its own process (so this process's CPU and heap are the runtime's alone), each run's stand-in agent
 * printing a stamped line every second for the given duration. Prints API requests and TCP connections per run
 * (and whether they stay the same for a short batch), completion and output latency, CPU and memory of this
 * process, optionally a soak of many short runs, and writes the numbers to bench-results/.
 *
 *   npm run bench -- [--runs 50 | --runs 50,200,1000] [--duration-sec 60] [--adapter claude|opencode] [--soak 5000]
 *   npm run bench -- --adapter-module <dir>    another adapter package (e.g. the older claude adapter), same harness
 *   npm run bench -- --compare <dir> [--rounds 2]   ours and that one alternately, one process each, side by side
 */
import { mkdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { writeHeapSnapshot } from "node:v8";
import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { loadAdapterModule } from "./bench/adapter-module.ts";
import { runBatch, type BatchResult } from "./bench/batch.ts";
import { runComparison } from "./bench/compare.ts";
import { parseBenchOptions, type BenchOptions } from "./bench/options.ts";
import { formatReport, machineInfo, MAIN_LABEL, RESULTS_DIR, sameRequestsPerRun, SHORT_LABEL, SOAK_LABEL, summarizeBatch, type BenchReport } from "./bench/report.ts";
import { mountSharedVolume, prepareRunLogDir, rerunInOwnMountNamespace } from "./bench/server-pod.ts";
import { startBenchSim, type BenchCluster } from "./bench/sim-client.ts";

/** The second batch's agents run this long: requests per run must not depend on it. */
const SHORT_BATCH_SEC = 2;
/** A soak run's agent runs this long: the soak is about what finished runs leave behind. */
const SOAK_RUN_SEC = 1;

interface BenchTarget {
  adapter: ServerAdapterModule;
  /** Which package: ours, or the directory `--adapter-module` named. */
  adapterPackage: string;
  /** Fixture directory of the CLI's recorded transcripts. */
  cli: string;
  /** True for another adapter package: it runs as if in the Paperclip server's pod (`server-pod.ts`). */
  inServerPod: boolean;
  /** Ends what the adapter keeps running between runs (our runtime's shared watches and reapers). */
  stop(): Promise<void>;
}

/** Our adapters and runtime are loaded only when they run, so that another adapter's heap holds none of their code. */
async function targetFor(options: BenchOptions): Promise<BenchTarget> {
  const cli = options.adapter;
  if (options.adapterModule !== null) {
    const { adapter, label } = await loadAdapterModule(options.adapterModule);
    return { adapter, adapterPackage: `${label} from ${options.adapterModule}`, cli, inServerPod: true, stop: async () => {} };
  }
  const adapter = cli === "claude" ? (await import("paperclip-adapter-claude-k8s")).createServerAdapter() : (await import("paperclip-adapter-opencode-k8s")).createServerAdapter();
  const runtime = await import("paperclip-k8s-runtime");
  const stop = async () => {
    runtime.stopReapers();
    await runtime.stopSharedWatches();
  };
  return { adapter, adapterPackage: "this repository's", cli, inServerPod: false, stop };
}

const progress = (text: string) => process.stderr.write(`[bench] ${text}\n`);

async function runBatches(options: BenchOptions, target: BenchTarget, cluster: BenchCluster): Promise<BatchResult[]> {
  const [smallest = 1] = options.runs;
  const snapshotDir = options.heapSnapshots;
  if (snapshotDir !== null) mkdirSync(snapshotDir, { recursive: true });
  const batch = (label: string, durationSec: number, runs: number, concurrency = runs) => {
    progress(`${label}: ${runs} runs of ${durationSec} s, ${Math.min(runs, concurrency)} at a time`);
    return runBatch({
      label,
      cluster,
      adapter: target.adapter,
      adapterType: target.adapter.type,
      transcript: `${target.cli}/happy`,
      runs,
      concurrency,
      durationSec,
      onProgress: progress,
      ...(target.inServerPod ? { prepareRun: ({ companyId, agentId }: { companyId: string; agentId: string }) => prepareRunLogDir(companyId, agentId) } : {}),
      ...(label === MAIN_LABEL && snapshotDir !== null ? { afterFullGc: (moment: "before" | "live") => { writeHeapSnapshot(path.join(snapshotDir, `${label}-${runs}-${moment}.heapsnapshot`)); } } : {}),
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
  if (options.compare !== null) return runComparison(options, options.compare);
  if (options.adapterModule !== null) {
    const exitCode = await rerunInOwnMountNamespace();
    if (exitCode !== null) return exitCode;
  }
  const startedAt = new Date();
  const target = await targetFor(options);
  const cluster = await startBenchSim(options.adapter, Math.max(...options.runs) + 10, target.inServerPod);
  if (target.inServerPod) mountSharedVolume(cluster.sharedRoot);
  let batches: BatchResult[];
  try {
    batches = await runBatches(options, target, cluster);
  } finally {
    await target.stop();
    await cluster.stop();
  }
  const summaries = batches.map((batch) => summarizeBatch(batch, !target.inServerPod));
  const main = summaries.find((summary) => summary.label === MAIN_LABEL);
  const short = summaries.find((summary) => summary.label === SHORT_LABEL);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    machine: machineInfo(),
    options,
    adapterType: target.adapter.type,
    adapterPackage: target.adapterPackage,
    batches: summaries,
    requestsPerRunConstant: main !== undefined && short !== undefined && sameRequestsPerRun(main, short),
    allSucceeded: summaries.every((summary) => summary.succeeded === summary.runs),
  };
  console.log(formatReport(report));
  const file = options.resultsFile ?? path.join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nNumbers written to ${path.relative(process.cwd(), file)}`);
  return report.allSucceeded ? 0 : 1;
}

/** How long after its report the bench may still be winding down before it names what keeps it alive. */
const LINGER_REPORT_MS = 10_000;

process.exitCode = await main();
// Nothing should outlive the report (a 1,000-run invocation once lingered two minutes after it): if something does,
// say what. The timer is unref'd, so it fires only when something else holds the event loop open.
setTimeout(() => {
  const counts = new Map<string, number>();
  for (const resource of process.getActiveResourcesInfo()) counts.set(resource, (counts.get(resource) ?? 0) + 1);
  const open = [...counts].map(([resource, count]) => `${resource} × ${count}`).join(", ");
  progress(`still running ${LINGER_REPORT_MS / 1000} s after the report; what keeps the event loop alive: ${open || "nothing listed"}`);
}, LINGER_REPORT_MS).unref();
