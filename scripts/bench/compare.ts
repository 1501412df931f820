/**
 * `--compare <dir>`: our adapter and another adapter package (the older claude adapter) in one session, alternately
 * (ours, theirs, ours, theirs…: the machine's load drifts, so neither gets all the quiet minutes), each leg a bench
 * process of its own with its own sim, the same options, the same stand-in agent. Then the main batch of every leg
 * side by side, each figure's mean per adapter, and the ratio ours / theirs.
 */
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BenchOptions } from "./options.ts";
import { fixed, MAIN_LABEL, RESULTS_DIR, table, type BatchSummary, type BenchReport } from "./report.ts";

type Side = "ours" | "theirs";

interface Leg {
  side: Side;
  round: number;
  file: string;
  exitCode: number;
}

interface Figure {
  name: string;
  value: (batch: BatchSummary) => number | null | undefined;
  digits: number;
}

const FIGURES: Figure[] = [
  { name: "API requests per run (all of them)", value: (b) => b.requests.allPerRun, digits: 1 },
  { name: "TCP connections per run", value: (b) => b.requests.connectionsPerRun, digits: 2 },
  { name: "completion p50 ms (agent exit → execute() returns)", value: (b) => b.completionMs.exitToReturn?.p50, digits: 0 },
  { name: "completion p95 ms", value: (b) => b.completionMs.exitToReturn?.p95, digits: 0 },
  { name: "onLog steady state p50 ms (pod write → onLog)", value: (b) => b.outputLatencyMs.steadyState?.p50, digits: 0 },
  { name: "onLog steady state p99 ms", value: (b) => b.outputLatencyMs.steadyState?.p99, digits: 0 },
  { name: "onLog first line of a run p50 ms", value: (b) => b.outputLatencyMs.firstLines?.p50, digits: 0 },
  { name: "CPU ms per run-minute, raw", value: (b) => b.cpu.perRunMinuteMs, digits: 0 },
  { name: "CPU ms per run-minute, net of the bench's instruments", value: (b) => b.cpu.netPerRunMinuteMs, digits: 0 },
  { name: "heap MB before the batch (after a full GC)", value: (b) => b.memoryMb.heapUsed.before, digits: 1 },
  { name: "heap MB peak", value: (b) => b.memoryMb.heapUsed.peak, digits: 1 },
  { name: "heap KB per live run (peak − before)", value: (b) => b.memoryMb.heapPerLiveRun * 1024, digits: 0 },
  { name: "live heap KB per run after a full GC", value: (b) => (b.memoryMb.liveHeapPerRun === null ? null : b.memoryMb.liveHeapPerRun * 1024), digits: 0 },
  { name: "RSS MB peak", value: (b) => b.memoryMb.rss.peak, digits: 0 },
  { name: "event-loop lag p99 ms", value: (b) => b.eventLoopLagMs.p99, digits: 0 },
  { name: "runs succeeded", value: (b) => b.succeeded, digits: 0 },
  { name: "load average at start", value: (b) => b.cpu.loadAverageAtStart, digits: 1 },
  { name: "load average at end", value: (b) => b.cpu.loadAverageAtEnd, digits: 1 },
];

/** The same bench, one leg: a process of its own (a fresh heap, its own sim) writing its JSON to `file`. */
function runLeg(options: BenchOptions, theirs: string | null, file: string): Promise<number> {
  const args = ["--runs", options.runs.join(","), "--duration-sec", String(options.durationSec), "--adapter", options.adapter, "--results-file", file];
  if (options.soak > 0) args.push("--soak", String(options.soak));
  if (theirs !== null) args.push("--adapter-module", theirs);
  const script = process.argv[1];
  if (script === undefined) throw new Error("cannot tell which script runs the bench");
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

function isBenchReport(value: unknown): value is BenchReport {
  return typeof value === "object" && value !== null && "batches" in value && Array.isArray(value.batches) && "adapterPackage" in value;
}

async function readReport(leg: Leg): Promise<BenchReport> {
  const text = await readFile(leg.file, "utf8").catch(() => {
    throw new Error(`${leg.side}, round ${leg.round}: no results at ${leg.file} (the leg exited ${leg.exitCode})`);
  });
  const report: unknown = JSON.parse(text);
  if (!isBenchReport(report)) throw new Error(`${leg.file} is not a bench report`);
  return report;
}

function mainBatch(report: BenchReport): BatchSummary {
  const batch = report.batches.find((candidate) => candidate.label === MAIN_LABEL);
  if (!batch) throw new Error("a leg's report has no main batch");
  return batch;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export async function runComparison(options: BenchOptions, theirs: string): Promise<number> {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const dir = path.join(RESULTS_DIR, `compare-${stamp}`);
  await mkdir(dir, { recursive: true });
  const legs: Leg[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const side of ["ours", "theirs"] as const) {
      const file = path.join(dir, `${round}-${side}.json`);
      process.stderr.write(`[compare] round ${round} of ${options.rounds}: ${side}\n`);
      legs.push({ side, round, file, exitCode: await runLeg(options, side === "ours" ? null : theirs, file) });
    }
  }
  const reports = await Promise.all(legs.map(readReport));
  const batches = reports.map(mainBatch);
  const [first] = batches;
  const oursReport = reports[legs.findIndex((leg) => leg.side === "ours")];
  const theirsReport = reports[legs.findIndex((leg) => leg.side === "theirs")];
  const rows = [["main batch", ...legs.map((leg) => `${leg.side} ${leg.round}`), "ours mean", "theirs mean", "ours / theirs"]];
  const json: Record<string, { ours: number | null; theirs: number | null; ratio: number | null }> = {};
  for (const figure of FIGURES) {
    const values = batches.map((batch) => figure.value(batch) ?? null);
    const sideMean = (side: Side) => mean(values.filter((value, i): value is number => value !== null && legs[i]?.side === side));
    const ours = sideMean("ours");
    const theirsMean = sideMean("theirs");
    const ratio = ours === null || theirsMean === null || theirsMean === 0 ? null : ours / theirsMean;
    json[figure.name] = { ours, theirs: theirsMean, ratio };
    const cell = (value: number | null) => (value === null ? "-" : fixed(value, figure.digits));
    rows.push([figure.name, ...values.map(cell), cell(ours), cell(theirsMean), ratio === null ? "-" : `×${ratio.toFixed(2)}`]);
  }
  const lines = [
    "",
    `Side by side, ${options.rounds} round(s), alternating: ours = ${oursReport?.adapterType} (${oursReport?.adapterPackage}), theirs = ${theirsReport?.adapterType} (${theirsReport?.adapterPackage})`,
    `${first?.runs ?? "?"} concurrent runs of ${options.durationSec} s each; every leg its own process and sim, the same stand-in agent`,
    table(rows),
  ];
  console.log(lines.join("\n"));
  const summary = path.join(dir, "comparison.json");
  await writeFile(summary, `${JSON.stringify({ options, theirs, legs, figures: json }, null, 2)}\n`);
  console.log(`\nEach leg's numbers and the comparison are in ${path.relative(process.cwd(), dir)}`);
  return legs.every((leg) => leg.exitCode === 0) ? 0 : 1;
}
