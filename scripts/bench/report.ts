/** Turns batch results into the JSON summary and the printed table (DESIGN §8's measures). */
import os from "node:os";
import path from "node:path";
import type { RequestSnapshot } from "paperclip-k8s-sim";
import type { BatchResult, LineSample } from "./batch.ts";
import type { BenchOptions } from "./options.ts";
import { distribution, type Distribution } from "./stats.ts";
import type { InstrumentsCalibration, LiveHeapSample } from "./usage.ts";

/** Where the bench writes its JSON (git-ignored). */
export const RESULTS_DIR = path.join(import.meta.dirname, "..", "..", "bench-results");

/** The labels of the batches: one main batch per `--runs` size, the short batch, the soak (`--soak`). */
export const MAIN_LABEL = "main";
export const SHORT_LABEL = "short";
export const SOAK_LABEL = "soak";

export interface RequestRow {
  verb: string;
  resource: string;
  total: number;
  perRun: number;
  /** Our runtime's shared watch's own LIST and WATCH, and its reaper's sweep: a cost per process, not per run. */
  shared: boolean;
}

export interface BatchSummary {
  label: string;
  runs: number;
  concurrency: number;
  durationSec: number;
  succeeded: number;
  failures: { runId: string; problem: string }[];
  requests: {
    total: number;
    /** Requests that are not the shared watch's own list/watch, divided by the runs. */
    perRun: number;
    /** Every request divided by the runs, the per-process ones included: what compares across adapters. */
    allPerRun: number;
    rows: RequestRow[];
    jobAndPodGets: number;
    watchesOpened: Record<string, number>;
    nonResource: Record<string, number>;
    /** TCP connections this process opened to the API server, per run (the sim counts them). */
    connectionsPerRun: number;
  };
  /** Agent exit to `execute()` returning, and to the runtime deleting the Job. */
  completionMs: { exitToReturn: Distribution | null; exitToJobDelete: Distribution | null };
  /**
   * Pod write to `onLog`: every stamped line; each run's first line (the pods' start-up storm, see
   * README); and the steady state, the lines written once every run's agent had started.
   */
  outputLatencyMs: {
    all: Distribution | null;
    firstLines: Distribution | null;
    steadyState: Distribution | null;
    /** Lines whose wait spanned the bench's forced GC (the live-heap reading), left out of the figures above. */
    leftOutForForcedGc: number;
  };
  cpu: {
    /** This process's CPU as measured, the bench's instruments and forced GC included. */
    processMs: number;
    perRunMinuteMs: number;
    /** Less the instruments (calibrated idle cost per second × wall time) and the forced GC: the runtime's own. */
    netProcessMs: number;
    netPerRunMinuteMs: number;
    instruments: InstrumentsCalibration;
    forcedGcCpuMs: number;
    percentOfOneCore: number;
    /** The pods' own processes (the simulated containers), per run. */
    podProcessesPerRunMs: number;
    /** The sim's process (API server, controllers, kubelet), not part of the figures above. */
    simPerRunMinuteMs: number;
    /** The sim's container launcher process (spawning the pods' processes, writing their logs), per run. */
    launcherPerRunMs: number;
    machineBusyPercent: number;
    loadAverageAtStart: number;
    loadAverageAtEnd: number;
  };
  memoryMb: {
    rss: { before: number; peak: number; after: number };
    heapUsed: { before: number; peak: number; after: number };
    /** (peak − before) / runs: heap a live run costs, garbage not yet collected included. */
    heapPerLiveRun: number;
    /** Heap after a full GC forced once every run was streaming; null when that moment did not come (runs in lanes). */
    heapLive: number | null;
    /** (heapLive − before) / runs: what a live run holds. */
    liveHeapPerRun: number | null;
    /** (after − before) / runs, both after a full GC: heap a finished run leaves behind. */
    heapRetainedPerRun: number;
  };
  eventLoopLagMs: { p50: number; p99: number; max: number };
  wallSec: number;
}

export interface BenchReport {
  startedAt: string;
  /** The adapter package run: ours, or the one `--adapter-module` named. */
  adapterPackage: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  options: BenchOptions;
  adapterType: string;
  batches: BatchSummary[];
  /** Per-run requests of the (first) main batch against the short one, row by row (shared rows left out). */
  requestsPerRunConstant: boolean;
  allSucceeded: boolean;
}

function isShared(verb: string, resource: string): boolean {
  const sharedWatch = (verb === "list" || verb === "watch") && (resource === "jobs" || resource === "pods");
  // The reaper lists the run Secrets once per sweep, on a timer of its own.
  const reaperSweep = verb === "list" && resource === "secrets";
  return sharedWatch || reaperSweep;
}

/** `ourRuntime`: the shared-watch and reaper rows are known per-process costs; another adapter's requests all count per run. */
function requestRows(snapshot: RequestSnapshot, runs: number, ourRuntime: boolean): RequestRow[] {
  const rows: RequestRow[] = [];
  for (const [resource, verbs] of Object.entries(snapshot.byResource)) {
    for (const [verb, total = 0] of Object.entries(verbs)) {
      rows.push({ verb, resource, total, perRun: total / runs, shared: ourRuntime && isShared(verb, resource) });
    }
  }
  return rows.sort((a, b) => Number(a.shared) - Number(b.shared) || a.resource.localeCompare(b.resource) || a.verb.localeCompare(b.verb));
}

/** True when the line was written before the forced GC ended and received after it started: the pause was in its wait. */
function waitedAcrossGc(line: LineSample, gc: LiveHeapSample | null): boolean {
  return gc !== null && line.writtenAt <= gc.gcEndedAt && line.writtenAt + line.latencyMs >= gc.gcStartedAt;
}

function outputLatency(allLines: readonly LineSample[], gc: LiveHeapSample | null): BatchSummary["outputLatencyMs"] {
  const lines = allLines.filter((line) => !waitedAcrossGc(line, gc));
  // Every run's first line counts when the agents started, even one left out of the figures.
  const allStartedAt = Math.max(...allLines.filter((line) => line.seq === 0).map((line) => line.writtenAt));
  const firstLines = lines.filter((line) => line.seq === 0);
  return {
    all: distribution(lines.map((line) => line.latencyMs)),
    firstLines: distribution(firstLines.map((line) => line.latencyMs)),
    steadyState: distribution(lines.filter((line) => line.writtenAt > allStartedAt).map((line) => line.latencyMs)),
    leftOutForForcedGc: allLines.length - lines.length,
  };
}

export function summarizeBatch(batch: BatchResult, ourRuntime: boolean): BatchSummary {
  const { runs, usage } = batch;
  const requests = batch.sim.requests;
  const rows = requestRows(requests, runs, ourRuntime);
  const present = (values: (number | null)[]) => values.filter((value): value is number => value !== null);
  const runMinutes = (runs * batch.durationSec) / 60;
  const { before, peak, after } = usage.memory;
  return {
    label: batch.label,
    runs,
    concurrency: batch.concurrency,
    durationSec: batch.durationSec,
    succeeded: batch.outcomes.filter((outcome) => outcome.ok).length,
    failures: batch.outcomes.flatMap((outcome) => (outcome.problem === null ? [] : [{ runId: outcome.runId, problem: outcome.problem }])),
    requests: {
      total: requests.total,
      perRun: rows.filter((row) => !row.shared).reduce((sum, row) => sum + row.perRun, 0),
      allPerRun: requests.total / runs,
      rows,
      jobAndPodGets: rows.filter((row) => row.verb === "get" && (row.resource === "jobs" || row.resource === "pods")).reduce((sum, row) => sum + row.total, 0),
      watchesOpened: requests.watchesOpened,
      nonResource: requests.nonResource,
      connectionsPerRun: requests.connectionsOpened / runs,
    },
    completionMs: {
      exitToReturn: distribution(present(batch.outcomes.map((outcome) => outcome.exitToReturnMs))),
      exitToJobDelete: distribution(present(batch.outcomes.map((outcome) => outcome.exitToJobDeleteMs))),
    },
    outputLatencyMs: outputLatency(batch.lines, usage.liveHeap),
    cpu: {
      processMs: usage.cpuMs,
      perRunMinuteMs: usage.cpuMs / runMinutes,
      netProcessMs: usage.netCpuMs,
      netPerRunMinuteMs: usage.netCpuMs / runMinutes,
      instruments: usage.instruments,
      forcedGcCpuMs: usage.forcedGcCpuMs,
      percentOfOneCore: (100 * usage.cpuMs) / usage.wallMs,
      podProcessesPerRunMs: batch.sim.podProcessesCpuMs / runs,
      simPerRunMinuteMs: batch.sim.simCpuMs / runMinutes,
      launcherPerRunMs: batch.sim.launcherCpuMs / runs,
      machineBusyPercent: usage.machineBusyPercent,
      loadAverageAtStart: usage.loadAverageAtStart,
      loadAverageAtEnd: usage.loadAverageAtEnd,
    },
    memoryMb: {
      rss: { before: before.rssMb, peak: peak.rssMb, after: after.rssMb },
      heapUsed: { before: before.heapUsedMb, peak: peak.heapUsedMb, after: after.heapUsedMb },
      heapPerLiveRun: (peak.heapUsedMb - before.heapUsedMb) / runs,
      heapLive: usage.liveHeap?.heapUsedMb ?? null,
      liveHeapPerRun: usage.liveHeap === null ? null : (usage.liveHeap.heapUsedMb - before.heapUsedMb) / runs,
      heapRetainedPerRun: (after.heapUsedMb - before.heapUsedMb) / runs,
    },
    eventLoopLagMs: usage.eventLoopLagMs,
    wallSec: usage.wallMs / 1000,
  };
}

/** True when every per-run request row (shared watch rows aside) has the same count per run in both batches. */
export function sameRequestsPerRun(a: BatchSummary, b: BatchSummary): boolean {
  const perRun = (summary: BatchSummary) =>
    new Map(summary.requests.rows.filter((row) => !row.shared).map((row) => [`${row.verb} ${row.resource}`, row.perRun]));
  const [left, right] = [perRun(a), perRun(b)];
  const keys = new Set([...left.keys(), ...right.keys()]);
  return [...keys].every((key) => Math.abs((left.get(key) ?? 0) - (right.get(key) ?? 0)) < 1e-9);
}

export function machineInfo(): BenchReport["machine"] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

// ---- printing ----

export const fixed = (value: number, digits = 0) => value.toFixed(digits);

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("   ")}`).join("\n");
}

/** p50, p95, p99 (blank when `withP99` is false), max, n. */
function latencyCells(d: Distribution | null, withP99: boolean): string[] {
  if (d === null) return ["-", "-", withP99 ? "-" : "", "-", "0"];
  return [fixed(d.p50), fixed(d.p95), withP99 ? fixed(d.p99) : "", fixed(d.max), String(d.count)];
}

function describeWatches(opened: Record<string, number>): string {
  const entries = Object.entries(opened).filter(([, n]) => n > 0);
  return entries.length === 0 ? "none" : entries.map(([resource, n]) => `${resource} ${n}`).join(", ");
}

/** `×1.3`: how much a figure grew from the smallest main batch to the largest; blank when it cannot be said. */
function growth(first: number | undefined, last: number | undefined): string {
  if (first === undefined || last === undefined || !Number.isFinite(first) || !Number.isFinite(last) || first <= 0) return "-";
  return `×${(last / first).toFixed(last / first < 10 ? 2 : 1)}`;
}

/** The main batches side by side, with how each figure grew from the smallest to the largest. */
function scaleTable(mains: readonly BatchSummary[]): string[] {
  const first = mains[0];
  const last = mains[mains.length - 1];
  if (!first || !last || mains.length < 2) return [];
  const rows = [["", ...mains.map((batch) => `${batch.runs} runs`), `growth (×${fixed(last.runs / first.runs)} runs)`]];
  const row = (name: string, value: (batch: BatchSummary) => number | undefined, digits = 0) =>
    rows.push([name, ...mains.map((batch) => (value(batch) === undefined ? "-" : fixed(value(batch) ?? 0, digits))), growth(value(first), value(last))]);
  row("API requests per run", (b) => b.requests.perRun, 2);
  row("TCP connections per run", (b) => b.requests.connectionsPerRun, 2);
  row("CPU ms per run-minute, raw", (b) => b.cpu.perRunMinuteMs);
  row("CPU ms per run-minute, net of the bench's instruments", (b) => b.cpu.netPerRunMinuteMs);
  row("CPU % of one core", (b) => b.cpu.percentOfOneCore);
  row("RSS MB peak", (b) => b.memoryMb.rss.peak);
  row("heap MB peak", (b) => b.memoryMb.heapUsed.peak);
  row("heap KB per live run (peak − start)", (b) => b.memoryMb.heapPerLiveRun * 1024);
  row("live heap KB per run after a full GC", (b) => (b.memoryMb.liveHeapPerRun === null ? undefined : b.memoryMb.liveHeapPerRun * 1024));
  row("completion p50 ms", (b) => b.completionMs.exitToReturn?.p50);
  row("completion p95 ms", (b) => b.completionMs.exitToReturn?.p95);
  row("onLog steady state p50 ms", (b) => b.outputLatencyMs.steadyState?.p50);
  row("onLog steady state p99 ms", (b) => b.outputLatencyMs.steadyState?.p99);
  row("onLog first line p50 ms (pods' start-up)", (b) => b.outputLatencyMs.firstLines?.p50);
  row("event-loop lag p99 ms", (b) => b.eventLoopLagMs.p99);
  row("sim process CPU ms per run-minute", (b) => b.cpu.simPerRunMinuteMs);
  row("load average at start", (b) => b.cpu.loadAverageAtStart, 1);
  row("load average at end", (b) => b.cpu.loadAverageAtEnd, 1);
  return ["", "Scale: the main batches side by side (this process's figures unless named)", table(rows)];
}

export function formatReport(report: BenchReport): string {
  const batches = report.batches;
  const mains = batches.filter((batch) => batch.label === MAIN_LABEL);
  const [main] = mains;
  const short = batches.find((batch) => batch.label === SHORT_LABEL);
  if (!main || !short) throw new Error("the report needs a main and the short batch");
  const heading = (batch: BatchSummary) =>
    `${batch.label} (${batch.runs}×${batch.durationSec} s${batch.concurrency < batch.runs ? `, ${batch.concurrency} at a time` : ""})`;
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`${report.adapterType} (${report.adapterPackage}): ${report.options.runs.join(", ")} concurrent runs; ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}`);

  lines.push("", "Kubernetes API requests (all of this process's; the sim's controllers use no HTTP)");
  const keys = [...new Set(batches.flatMap((batch) => batch.requests.rows.map((row) => `${row.verb} ${row.resource}`)))];
  const requestTable = [["verb resource", ...batches.flatMap((batch) => [`${heading(batch)} total`, "per run"])]];
  for (const key of keys) {
    const cells = batches.flatMap((batch) => {
      const row = batch.requests.rows.find((candidate) => `${candidate.verb} ${candidate.resource}` === key);
      return row === undefined ? ["0", "0"] : [String(row.total), row.shared ? "shared" : fixed(row.perRun, 2)];
    });
    const shared = batches.some((batch) => batch.requests.rows.some((row) => row.shared && `${row.verb} ${row.resource}` === key));
    requestTable.push([shared ? `${key} (per process: shared watch, reaper)` : key, ...cells]);
  }
  requestTable.push(["all requests", ...batches.flatMap((batch) => [String(batch.requests.total), fixed(batch.requests.perRun, 2)])]);
  requestTable.push(["GET of Jobs and Pods", ...batches.flatMap((batch) => [String(batch.requests.jobAndPodGets), ""])]);
  requestTable.push(["watches opened", ...batches.flatMap((batch) => [describeWatches(batch.requests.watchesOpened), ""])]);
  requestTable.push(["TCP connections opened", ...batches.flatMap((batch) => [fixed(batch.requests.connectionsPerRun * batch.runs), fixed(batch.requests.connectionsPerRun, 2)])]);
  lines.push(table(requestTable));
  lines.push(`  per-run requests the same for ${main.durationSec} s and ${short.durationSec} s runs: ${report.requestsPerRunConstant ? "yes" : "NO"}`);

  lines.push("", "Latency (ms)");
  const latencyTable = [["", "p50", "p95", "p99", "max", "n"]];
  for (const batch of batches) {
    latencyTable.push([`${heading(batch)} agent exit → execute() returns`, ...latencyCells(batch.completionMs.exitToReturn, false)]);
    latencyTable.push([`${heading(batch)} agent exit → Job deleted (detected + drained)`, ...latencyCells(batch.completionMs.exitToJobDelete, false)]);
    latencyTable.push([`${heading(batch)} pod write → onLog, every line`, ...latencyCells(batch.outputLatencyMs.all, true)]);
    latencyTable.push([`${heading(batch)}   first line of each run`, ...latencyCells(batch.outputLatencyMs.firstLines, true)]);
    latencyTable.push([`${heading(batch)}   once every agent had started`, ...latencyCells(batch.outputLatencyMs.steadyState, true)]);
  }
  lines.push(table(latencyTable));

  lines.push("", "This process (runtime + client-node; the sim runs in its own process)");
  const usageTable = [["", ...batches.map(heading)]];
  const row = (name: string, value: (batch: BatchSummary) => string) => usageTable.push([name, ...batches.map(value)]);
  row("wall time s", (b) => fixed(b.wallSec, 1));
  row("CPU ms per run-minute: raw / net", (b) => `${fixed(b.cpu.perRunMinuteMs)} / ${fixed(b.cpu.netPerRunMinuteMs)}`);
  row("  less: instruments ms/s (idle with − without) × wall; forced GC ms", (b) => {
    const calibration = b.cpu.instruments;
    return `${fixed(calibration.msPerSec, 1)} (${fixed(calibration.withInstrumentsMsPerSec, 1)} − ${fixed(calibration.withoutInstrumentsMsPerSec, 1)}) × ${fixed(b.wallSec)} s; ${fixed(b.cpu.forcedGcCpuMs)}`;
  });
  row("CPU % of one core", (b) => fixed(b.cpu.percentOfOneCore));
  row("sim process: CPU ms per run-minute (not counted above)", (b) => fixed(b.cpu.simPerRunMinuteMs));
  row("sim's container launcher: CPU ms per run", (b) => fixed(b.cpu.launcherPerRunMs));
  row("pods' own processes: CPU ms per run", (b) => fixed(b.cpu.podProcessesPerRunMs));
  row("machine: busy % of all cores, load at start / end", (b) => `${fixed(b.cpu.machineBusyPercent)}, ${b.cpu.loadAverageAtStart.toFixed(1)} / ${b.cpu.loadAverageAtEnd.toFixed(1)}`);
  row("event-loop lag p50 / p99 / max ms", (b) => `${fixed(b.eventLoopLagMs.p50)} / ${fixed(b.eventLoopLagMs.p99)} / ${fixed(b.eventLoopLagMs.max)}`);
  row("RSS MB before / peak / after", (b) => `${fixed(b.memoryMb.rss.before)} / ${fixed(b.memoryMb.rss.peak)} / ${fixed(b.memoryMb.rss.after)}`);
  row("heap MB before / peak / after", (b) => `${fixed(b.memoryMb.heapUsed.before)} / ${fixed(b.memoryMb.heapUsed.peak)} / ${fixed(b.memoryMb.heapUsed.after)}`);
  row("heap KB per live run (peak − before) / retained per run", (b) => `${fixed(b.memoryMb.heapPerLiveRun * 1024)} / ${fixed(b.memoryMb.heapRetainedPerRun * 1024)}`);
  row("live heap after a full GC once every run streamed: MB, KB per run", (b) =>
    b.memoryMb.heapLive === null || b.memoryMb.liveHeapPerRun === null ? "-" : `${fixed(b.memoryMb.heapLive, 1)}, ${fixed(b.memoryMb.liveHeapPerRun * 1024)}`,
  );
  row("lines left out of latency (waited across that GC)", (b) => String(b.outputLatencyMs.leftOutForForcedGc));
  lines.push(table(usageTable));
  lines.push(...scaleTable(mains));

  const soak = batches.find((batch) => batch.label === SOAK_LABEL);
  if (soak) {
    const heap = soak.memoryMb.heapUsed;
    lines.push("", `Soak: ${soak.runs} runs, ${soak.concurrency} at a time: heap after a full GC ${fixed(heap.before, 1)} MB before, ${fixed(heap.after, 1)} MB after (${heap.after >= heap.before ? "+" : ""}${fixed(heap.after - heap.before, 1)} MB)`);
  }

  lines.push("");
  for (const batch of batches) {
    lines.push(`${heading(batch)}: ${batch.succeeded} of ${batch.runs} runs succeeded`);
    const shown = batch.failures.slice(0, 10);
    for (const failure of shown) lines.push(`  ${failure.runId}: ${failure.problem}`);
    if (batch.failures.length > shown.length) lines.push(`  … and ${batch.failures.length - shown.length} more (see the JSON)`);
  }
  return lines.join("\n");
}
