/** What this process (the runtime and client-node: the sim has its own process) and the machine spent during a batch. */
import { readFileSync } from "node:fs";
import os from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

// `npm run bench` runs plain `node`; a full collection before and after a batch makes heap numbers comparable.
v8.setFlagsFromString("--expose-gc");
const exposedGc: unknown = vm.runInNewContext("gc");

export function collectGarbage(): void {
  if (typeof exposedGc === "function") exposedGc();
}

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
}

export interface BatchUsage {
  wallMs: number;
  /** CPU time of this process (user + system), as measured: the bench's instruments and forced GC included. */
  cpuMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** What the bench's own instruments cost this process per second, calibrated while idle just before the batch. */
  instruments: InstrumentsCalibration;
  /** CPU of the full GC forced mid-batch to read the live heap (`liveHeap`); 0 when none ran. */
  forcedGcCpuMs: number;
  /** `cpuMs` less the instruments (calibrated ms/s × wall time) and the forced GC: the runtime's own CPU. */
  netCpuMs: number;
  /** Busy share of all the machine's cores, whoever used them (pods included, other work on the machine too). */
  machineBusyPercent: number;
  /** The 1-minute load average when the batch started and ended: other work on the machine skews every number. */
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
  /** After a full GC before the batch, the highest values sampled during it, and after a full GC once it ended. */
  memory: { before: MemorySample; peak: MemorySample; after: MemorySample };
  /** Heap after a full GC forced once every run of the batch was streaming; null when that moment did not come. */
  liveHeap: LiveHeapSample | null;
  /** How late this process's event loop ran its timers: the runtime's responsiveness under load. */
  eventLoopLagMs: { p50: number; p99: number; max: number };
}

export interface InstrumentsCalibration {
  /** Idle CPU ms per second with the instruments running, and without them (the runtime's idle timers alone). */
  withInstrumentsMsPerSec: number;
  withoutInstrumentsMsPerSec: number;
  /** The difference (never below 0): what is subtracted per second of the batch. */
  msPerSec: number;
  /** Length of each of the four idle windows (two with the instruments, two without). */
  windowMs: number;
}

export interface LiveHeapSample {
  heapUsedMb: number;
  /**
   * Epoch ms the forced GC (and the heap snapshot after it, with `--heap-snapshots`) started and ended: lines waiting
   * across it are the bench's delay, not the runtime's; `gcCpuMs` is its CPU.
   */
  gcStartedAt: number;
  gcEndedAt: number;
  gcCpuMs: number;
}

const MB = 1024 * 1024;
/**
 * Every timer wake-up costs this process CPU (on a Firecracker VM 50–200 µs each), which the batch would charge to
 * the runtime: memory is sampled once a second (enough for a peak over a batch of many seconds; the live heap is
 * read apart, after a full GC) and the event loop's delay on a 50 ms timer (20 wake-ups a second, not 100).
 */
const SAMPLE_EVERY_MS = 1000;
/** The delay monitor's timer interval; it records whole intervals, so the lag is what exceeds this. */
const LOOP_RESOLUTION_MS = 50;
/** Each of the four idle windows of a calibration, and the pause before them. */
const CALIBRATION_WINDOW_MS = 1500;
const CALIBRATION_SETTLE_MS = 1000;

function memoryNow(): MemorySample {
  // Both cheaper than process.memoryUsage(), which walks every heap space.
  return { rssMb: process.memoryUsage.rss() / MB, heapUsedMb: v8.getHeapStatistics().used_heap_size / MB };
}

/** Linux reports child CPU in clock ticks of USER_HZ, which is 100 on every architecture Node runs on. */
const USER_HZ = 100;

/** A process's CPU from /proc/<pid>/stat: its own (utime + stime) and its waited-for children's (cutime + cstime). */
export interface ProcessCpu {
  ownMs: number;
  waitedChildrenMs: number;
}

/** Zero where there is no procfs or no such process. */
export function processCpuMs(pid: number | "self"): ProcessCpu {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return { ownMs: 0, waitedChildrenMs: 0 };
  }
  // Fields after the command name, which is in parentheses and may contain spaces: field 3 is the first.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ms = (field: number) => (Number(fields[field - 3]) * 1000) / USER_HZ;
  return { ownMs: ms(14) + ms(15), waitedChildrenMs: ms(16) + ms(17) };
}

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

/** The bench's instruments: a memory sampler keeping peaks, and the event-loop delay monitor. */
function startInstruments(peak: MemorySample): { stop(): { p50: number; p99: number; max: number } } {
  const sampler = setInterval(() => {
    const now = memoryNow();
    peak.rssMb = Math.max(peak.rssMb, now.rssMb);
    peak.heapUsedMb = Math.max(peak.heapUsedMb, now.heapUsedMb);
  }, SAMPLE_EVERY_MS);
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  return {
    stop: () => {
      loopDelay.disable();
      clearInterval(sampler);
      const lagMs = (ns: number) => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
      return { p50: lagMs(loopDelay.percentile(50)), p99: lagMs(loopDelay.percentile(99)), max: lagMs(loopDelay.max) };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cpuNowMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** This process's CPU per second over an idle window, with the instruments running or not. */
async function idleCpuMsPerSec(withInstruments: boolean): Promise<number> {
  const instruments = withInstruments ? startInstruments(memoryNow()) : undefined;
  const startedAt = performance.now();
  const cpuAtStart = cpuNowMs();
  await sleep(CALIBRATION_WINDOW_MS);
  const cpuMs = cpuNowMs() - cpuAtStart;
  const wallMs = performance.now() - startedAt;
  instruments?.stop();
  return (1000 * cpuMs) / wallMs;
}

/**
 * What the instruments cost this process per second: idle CPU with them running minus idle CPU without them, in the
 * same process just before a batch (so the runtime's own idle timers, e.g. the shared watch's, cancel out). After a
 * settling pause (the previous batch's last work), the windows go without, with, with, without, so that work fading
 * or growing meanwhile weighs on both sides alike.
 */
export async function calibrateInstruments(): Promise<InstrumentsCalibration> {
  collectGarbage();
  await sleep(CALIBRATION_SETTLE_MS);
  const without = [await idleCpuMsPerSec(false)];
  const withThem = [await idleCpuMsPerSec(true), await idleCpuMsPerSec(true)];
  without.push(await idleCpuMsPerSec(false));
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const withoutInstrumentsMsPerSec = mean(without);
  const withInstrumentsMsPerSec = mean(withThem);
  return {
    withInstrumentsMsPerSec,
    withoutInstrumentsMsPerSec,
    msPerSec: Math.max(0, withInstrumentsMsPerSec - withoutInstrumentsMsPerSec),
    windowMs: CALIBRATION_WINDOW_MS,
  };
}

/** Called right after the full GC before a batch and the one at the live moment, e.g. to write a heap snapshot. */
export type AfterFullGc = (moment: "before" | "live") => void;

/** Forces a full GC and reads the heap: what live runs hold, without the garbage not yet collected. */
function readLiveHeap(afterFullGc: AfterFullGc | undefined): LiveHeapSample {
  const gcStartedAt = Date.now();
  const cpuAtStart = cpuNowMs();
  collectGarbage();
  const heapUsedMb = memoryNow().heapUsedMb;
  afterFullGc?.("live");
  const gcCpuMs = cpuNowMs() - cpuAtStart;
  return { heapUsedMb, gcStartedAt, gcEndedAt: Date.now(), gcCpuMs };
}

/** Starts measuring; `liveHeap()` reads the live heap once (the first call counts), `stop()` ends it and reports. */
export function measureUsage(instruments: InstrumentsCalibration, afterFullGc?: AfterFullGc): { liveHeap(): void; stop(): BatchUsage } {
  collectGarbage();
  const before = memoryNow();
  afterFullGc?.("before");
  const peak = { ...before };
  const running = startInstruments(peak);
  let liveHeap: LiveHeapSample | null = null;
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  const machineAtStart = machineTimes();
  const [loadAverageAtStart = 0] = os.loadavg();
  return {
    liveHeap: () => {
      liveHeap ??= readLiveHeap(afterFullGc);
    },
    stop: () => {
      const cpu = process.cpuUsage(cpuAtStart);
      const machine = machineTimes();
      const wallMs = performance.now() - startedAt;
      const eventLoopLagMs = running.stop();
      collectGarbage();
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const forcedGcCpuMs = liveHeap?.gcCpuMs ?? 0;
      return {
        wallMs,
        cpuMs,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        instruments,
        forcedGcCpuMs,
        netCpuMs: cpuMs - forcedGcCpuMs - (instruments.msPerSec * wallMs) / 1000,
        loadAverageAtStart,
        loadAverageAtEnd: os.loadavg()[0] ?? 0,
        machineBusyPercent: (100 * (machine.busy - machineAtStart.busy)) / Math.max(1, machine.total - machineAtStart.total),
        memory: { before, peak, after: memoryNow() },
        liveHeap,
        eventLoopLagMs,
      };
    },
  };
}
