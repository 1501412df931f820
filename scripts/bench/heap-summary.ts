/**
 * What the live runs hold, from the two heap snapshots `--heap-snapshots <dir>` writes for a main batch (after the
 * full GC at its start, and after the one forced once every run streams): self size and count by constructor (or
 * by kind for strings, arrays, code...), the largest growths first, per run when the run count is given.
 *
 *   node --conditions=source scripts/bench.ts --runs 50 --duration-sec 30 --heap-snapshots prof/heap
 *   node scripts/bench/heap-summary.ts prof/heap/main-50-before.heapsnapshot prof/heap/main-50-live.heapsnapshot 50
 */
import { readFile } from "node:fs/promises";

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

function isHeapSnapshot(value: unknown): value is HeapSnapshot {
  if (typeof value !== "object" || value === null || !("snapshot" in value) || !("nodes" in value) || !("strings" in value)) return false;
  const { snapshot, nodes, strings } = value;
  return typeof snapshot === "object" && snapshot !== null && "meta" in snapshot && Array.isArray(nodes) && Array.isArray(strings);
}

/** Objects and closures by constructor or function name; everything else (strings, arrays, code, ...) by kind. */
const NAMED_KINDS = new Set(["object", "closure", "native"]);

interface Group {
  bytes: number;
  count: number;
}

async function groups(file: string): Promise<Map<string, Group>> {
  const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
  if (!isHeapSnapshot(parsed)) throw new Error(`${file} is not a V8 heap snapshot`);
  const { node_fields: fields, node_types: types } = parsed.snapshot.meta;
  const [kinds] = types;
  if (!Array.isArray(kinds)) throw new Error(`${file}: no node kinds in its meta`);
  const width = fields.length;
  const at = (field: string) => {
    const index = fields.indexOf(field);
    if (index < 0) throw new Error(`${file}: nodes have no ${field}`);
    return index;
  };
  const [kindAt, nameAt, sizeAt] = [at("type"), at("name"), at("self_size")];
  const result = new Map<string, Group>();
  for (let i = 0; i < parsed.nodes.length; i += width) {
    const kind = String(kinds[parsed.nodes[i + kindAt] ?? -1] ?? "?");
    const key = NAMED_KINDS.has(kind) ? `${kind} ${parsed.strings[parsed.nodes[i + nameAt] ?? -1] ?? "?"}` : `(${kind})`;
    const group = result.get(key) ?? { bytes: 0, count: 0 };
    group.bytes += parsed.nodes[i + sizeAt] ?? 0;
    group.count++;
    result.set(key, group);
  }
  return result;
}

const [beforeFile, liveFile, runsArg] = process.argv.slice(2);
if (beforeFile === undefined || liveFile === undefined) {
  console.error("usage: node scripts/bench/heap-summary.ts <before.heapsnapshot> <live.heapsnapshot> [runs]");
  process.exit(2);
}
const runs = runsArg === undefined ? 1 : Number(runsArg);
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${JSON.stringify(runsArg)}`);
const [before, live] = await Promise.all([groups(beforeFile), groups(liveFile)]);
const growth = [...new Set([...before.keys(), ...live.keys()])].map((key) => {
  const [was, now] = [before.get(key) ?? { bytes: 0, count: 0 }, live.get(key) ?? { bytes: 0, count: 0 }];
  return { key, bytes: now.bytes - was.bytes, count: now.count - was.count };
});
growth.sort((a, b) => b.bytes - a.bytes);
const total = (map: Map<string, Group>) => [...map.values()].reduce((sum, group) => sum + group.bytes, 0);
const grew = total(live) - total(before);
const per = runs === 1 ? "" : " per run";
console.log(`heap ${(total(before) / 2 ** 20).toFixed(1)} → ${(total(live) / 2 ** 20).toFixed(1)} MB: ${(grew / runs / 1024).toFixed(1)} KB${per}`);
console.log(`${`KB${per}`.padStart(12)} ${`objects${per}`.padStart(14)}  what`);
for (const { key, bytes, count } of growth.slice(0, 30)) {
  console.log(`${(bytes / runs / 1024).toFixed(1).padStart(12)} ${(count / runs).toFixed(1).padStart(14)}  ${key}`);
}
