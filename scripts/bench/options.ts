/** Command-line flags of `npm run bench`. */
export const ADAPTERS = ["claude", "opencode"] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export interface BenchOptions {
  /** Concurrent runs of each main batch, ascending (`--runs 50,200,1000` runs three, reported side by side). */
  runs: number[];
  /** How long each fake agent runs in the main batch, printing a stamped line every second. */
  durationSec: number;
  adapter: AdapterName;
  /** Short runs churned through the process after the other batches, the first `runs` at a time; 0 for none. */
  soak: number;
  /**
   * Directory of another adapter package to run instead of ours (its `./server` export, or its main, must export
   * `createServerAdapter()`), driving the stand-in of `adapter`'s CLI; it runs as if in the Paperclip server's pod.
   */
  adapterModule: string | null;
  /** Directory of another adapter package to run alternately with ours (`adapter`), `rounds` times each, compared. */
  compare: string | null;
  rounds: number;
  /** Where to write the JSON results (default `bench-results/<start time>.json`). */
  resultsFile: string | null;
  /** Directory for heap snapshots of each main batch, before it and once every run streams (`heap-summary.ts`). */
  heapSnapshots: string | null;
}

export const USAGE =
  "usage: npm run bench -- [--runs N or N,N,… (default 50; several sizes are run and reported side by side)] [--duration-sec S (default 60)] [--adapter claude|opencode] [--soak N (short runs, the first --runs at a time)] [--adapter-module DIR (another adapter package, run with --adapter's CLI stand-in) | --compare DIR [--rounds N (default 2)]] [--results-file FILE] [--heap-snapshots DIR (main batches; their pauses spoil latency)]";

function isAdapterName(value: string): value is AdapterName {
  return ADAPTERS.some((name) => name === value);
}

function positiveInteger(flag: string, value: string | undefined): number {
  const parsed = value === undefined || !/^\d+$/.test(value) ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${flag} needs a positive integer, got ${JSON.stringify(value)}\n${USAGE}`);
  return parsed;
}

/** `50` or `50,200,1000`: distinct sizes, ascending. */
function runSizes(flag: string, value: string | undefined): number[] {
  const sizes = (value ?? "").split(",").map((part) => positiveInteger(flag, part === "" ? undefined : part));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** Parses `--flag value` and `--flag=value`; unknown flags and bad values throw with the usage line. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { runs: [50], durationSec: 60, adapter: "claude", soak: 0, adapterModule: null, compare: null, rounds: 2, resultsFile: null, heapSnapshots: null };
  const text = (flag: string, value: string | undefined) => {
    if (value === undefined || value === "") throw new Error(`${flag} needs a value\n${USAGE}`);
    return value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === "--runs") options.runs = runSizes(flag, value());
    else if (flag === "--soak") options.soak = positiveInteger(flag, value());
    else if (flag === "--duration-sec") options.durationSec = positiveInteger(flag, value());
    else if (flag === "--adapter-module") options.adapterModule = text(flag, value());
    else if (flag === "--compare") options.compare = text(flag, value());
    else if (flag === "--rounds") options.rounds = positiveInteger(flag, value());
    else if (flag === "--results-file") options.resultsFile = text(flag, value());
    else if (flag === "--heap-snapshots") options.heapSnapshots = text(flag, value());
    else if (flag === "--adapter") {
      const name = value();
      if (name === undefined || !isAdapterName(name)) throw new Error(`--adapter must be one of ${ADAPTERS.join(", ")}, got ${JSON.stringify(name)}\n${USAGE}`);
      options.adapter = name;
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  if (options.adapterModule !== null && options.compare !== null) throw new Error(`--adapter-module and --compare exclude each other\n${USAGE}`);
  return options;
}
