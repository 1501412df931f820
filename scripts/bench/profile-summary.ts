/**
 * Where a `--cpu-prof` profile of the bench spent its main thread's time: by area (runtime, sim,
 * client-node, undici, GC, idle), charging Node internals and native calls (spawn, structuredClone,
 * fs) to the code that called them, and the top functions by self time.
 *
 *   node --cpu-prof --cpu-prof-dir=prof --conditions=source scripts/bench.ts --runs 200 --duration-sec 20
 *   node scripts/bench/profile-summary.ts prof/CPU.*.cpuprofile
 *
 * V8 samples on a wall-clock timer, so on a saturated machine this is where the thread's time went
 * (waiting for a CPU or blocked in a system call included), not only CPU time.
 */
import { readFile } from "node:fs/promises";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isCpuProfile(value: unknown): value is CpuProfile {
  if (typeof value !== "object" || value === null) return false;
  return "nodes" in value && Array.isArray(value.nodes) && "samples" in value && Array.isArray(value.samples) && "timeDeltas" in value && Array.isArray(value.timeDeltas);
}

const AREAS: [RegExp, string][] = [
  [/packages\/k8s-runtime\//, "k8s-runtime"],
  [/packages\/k8s-sim\//, "k8s-sim"],
  [/packages\/adapter-/, "adapters"],
  [/scripts\//, "bench script"],
  [/node_modules\/@kubernetes\/client-node\//, "@kubernetes/client-node"],
  // undici's HTTP parser is llhttp compiled to WebAssembly.
  [/node_modules\/undici\/|^wasm:/, "undici (client-node's HTTP)"],
  [/^node:/, "Node.js internals"],
];

const NODE_INTERNALS = "Node.js internals";
const NATIVE = "native";

function areaOf(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : NATIVE;
  return AREAS.find(([pattern]) => pattern.test(frame.url))?.[1] ?? "other dependencies";
}

function top(totals: Map<string, number>, limit: number): [string, number][] {
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, limit);
}

function add(totals: Map<string, number>, key: string, micros: number): void {
  totals.set(key, (totals.get(key) ?? 0) + micros);
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node scripts/bench/profile-summary.ts <file.cpuprofile>");
  process.exit(2);
}
const profile: unknown = JSON.parse(await readFile(file, "utf8"));
if (!isCpuProfile(profile)) throw new Error(`${file} is not a V8 CPU profile (nodes, samples, timeDeltas)`);

const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

/** The area of the nearest frame, this one or a caller, that is not Node's own code. */
function owningArea(id: number): string {
  const own = areaOf(frames.get(id) ?? { functionName: "", url: "", lineNumber: 0 });
  for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
    const frame = frames.get(current);
    const area = frame ? areaOf(frame) : NATIVE;
    if (area === "(root)") return "Node.js event loop (timers, I/O callbacks)";
    if (area !== NODE_INTERNALS && area !== NATIVE) return current === id ? area : `${area} (via Node.js/native calls)`;
  }
  return own;
}

const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const micros = profile.timeDeltas[i] ?? 0;
  const frame = frames.get(id);
  if (!frame) return;
  total += micros;
  add(byArea, owningArea(id), micros);
  const where = frame.url === "" ? "" : ` ${frame.url.replace(/^.*\/(packages|node_modules)\//, "$1/")}:${frame.lineNumber + 1}`;
  add(byFunction, `${frame.functionName || "(anonymous)"}${where}`, micros);
});

const line = (micros: number, label: string) => `${(micros / 1e6).toFixed(2).padStart(8)} s ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${label}`;
console.log(`${(total / 1e6).toFixed(1)} s of main-thread samples\n\nby area (Node.js and native calls charged to their caller)`);
for (const [area, micros] of top(byArea, 20)) console.log(line(micros, area));
console.log("\ntop functions (self time)");
for (const [name, micros] of top(byFunction, 25)) console.log(line(micros, name));
