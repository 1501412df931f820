import { parseArgs } from "node:util";

/** A `POST /_sim/faults` body (the server validates verbs, statuses and ranges and answers 400 with the problem). */
export type FaultInstruction = Record<string, unknown>;

/** A command line the CLI cannot act on; the message names the problem. */
export class CliUsageError extends Error {}

export const FAULT_USAGE = `Usage: paperclip-k8s-sim fault [--kubeconfig <path>] <action> [options]

Sets a fault on a running sim (the server URL comes from the kubeconfig, default ./sim-kubeconfig.json).

  fail-requests [--verb <v>] [--resource <r>] (--status 500|503|429 [--retry-after <s>] | --drop)
                [--count <n>] [--fraction <0..1>]
                                   answer matching requests with an error, or drop the connection
  latency --ms <n> [--verb <v>] [--resource <r>]
                                   delay matching requests
  cut-watches (--after-events <n> | --after-ms <n>) [--resource <r>] [--count <n>]
                                   end watch streams early (cleanly, no ERROR event)
  gone-next-watch [<resource>]     answer the next watch (of any resource by default) with 410 Gone
  drop-open-watches [<resource>]   drop the connections of the watches open now (all resources by default)
  hold-open-watches [<resource>]   keep the watches open now connected but silent (no events, no bookmarks)
  hold-all-watches [<resource>]    hold the watches open now and every one opened later (a proxy holding them all)
  release-open-watches [<resource>]
                                   send what held watches held back, let them stream again, stop holding new ones
  expire-open-watches [<resource>] send 410 Gone (an ERROR event) on the watches open now, ending them
  status-lag --ms <n>              publish a pod's terminal phase this long before its container state
  oom-kill <namespace> <pod> [<container>]
                                   kill a running container as the OOM killer would (exit 137, OOMKilled)
  evict <namespace> <pod>          evict a running pod (phase Failed, reason Evicted)
  remove-node <name>               delete a node; its pods' processes die with it
  hold <namespace>/<pod>|<prefix>* keep matching pods in ContainerCreating
  release <namespace>/<pod>|<prefix>*
                                   let held pods start
  clear                            remove every fault rule (held pods and watches are released)

--verb is one of get, list, watch, create, update, patch, delete, deletecollection; --resource is a
plural such as pods, jobs or pods/log. A rule without --verb or --resource matches every one.`;

type OptionName =
  | "verb" | "resource" | "status" | "retry-after" | "drop" | "count" | "fraction" | "ms" | "after-events" | "after-ms";

interface Action {
  options: readonly OptionName[];
  /** Positional arguments after the action name: [required, optional]. */
  positionals: readonly [number, number];
  build(values: Values, positionals: string[]): FaultInstruction;
}

interface Values {
  string(name: OptionName): string | undefined;
  number(name: OptionName): number | undefined;
  flag(name: OptionName): boolean;
}

const OPTIONS = {
  kubeconfig: { type: "string" },
  verb: { type: "string" },
  resource: { type: "string" },
  status: { type: "string" },
  "retry-after": { type: "string" },
  drop: { type: "boolean" },
  count: { type: "string" },
  fraction: { type: "string" },
  ms: { type: "string" },
  "after-events": { type: "string" },
  "after-ms": { type: "string" },
} as const;

/** `{verb, resource}` from the options given, leaving out the ones not given (so the rule matches any). */
function requestMatch(values: Values): FaultInstruction {
  return defined({ verb: values.string("verb"), resource: values.string("resource") });
}

function defined(fields: Record<string, unknown>): FaultInstruction {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new CliUsageError(message);
  return value;
}

const ACTIONS = new Map<string, Action>(Object.entries({
  "fail-requests": {
    options: ["verb", "resource", "status", "retry-after", "drop", "count", "fraction"],
    positionals: [0, 0],
    build(values) {
      const status = values.number("status");
      const drop = values.flag("drop");
      if ((status === undefined) === !drop) throw new CliUsageError("fail-requests needs exactly one of --status <code> and --drop");
      const retryAfterSeconds = values.number("retry-after");
      if (drop && retryAfterSeconds !== undefined) throw new CliUsageError("--retry-after goes with --status, not --drop");
      const response = drop ? { kind: "drop" } : defined({ kind: "status", status, retryAfterSeconds });
      return { failRequests: { ...requestMatch(values), response, ...defined({ count: values.number("count"), fraction: values.number("fraction") }) } };
    },
  },
  latency: {
    options: ["verb", "resource", "ms"],
    positionals: [0, 0],
    build: (values) => ({ latency: { ...requestMatch(values), ms: required(values.number("ms"), "latency needs --ms <n>") } }),
  },
  "cut-watches": {
    options: ["resource", "after-events", "after-ms", "count"],
    positionals: [0, 0],
    build(values) {
      const cut = defined({
        resource: values.string("resource"),
        afterEvents: values.number("after-events"),
        afterMs: values.number("after-ms"),
        count: values.number("count"),
      });
      if (cut.afterEvents === undefined && cut.afterMs === undefined) throw new CliUsageError("cut-watches needs --after-events <n> or --after-ms <n>");
      return { cutWatches: cut };
    },
  },
  "gone-next-watch": { options: [], positionals: [0, 1], build: (_, [resource]) => ({ goneOnNextWatch: resource ?? true }) },
  "drop-open-watches": { options: [], positionals: [0, 1], build: (_, [resource]) => ({ dropOpenWatches: resource ?? true }) },
  "hold-open-watches": { options: [], positionals: [0, 1], build: (_, [resource]) => ({ holdOpenWatches: resource ?? true }) },
  "hold-all-watches": { options: [], positionals: [0, 1], build: (_, [resource]) => ({ holdAllWatches: resource ?? true }) },
  "release-open-watches": { options: [], positionals: [0, 1], build: (_, [resource]) => ({ releaseOpenWatches: resource ?? true }) },
  "expire-open-watches": { options: [], positionals: [0, 1], build: (_, [resource]) => ({ expireOpenWatches: resource ?? true }) },
  "status-lag": {
    options: ["ms"],
    positionals: [0, 0],
    build: (values) => ({ statusLagMs: required(values.number("ms"), "status-lag needs --ms <n>") }),
  },
  "oom-kill": {
    options: [],
    positionals: [2, 1],
    build: (_, [namespace, pod, container]) => ({ oomKill: defined({ namespace, pod, container }) }),
  },
  evict: { options: [], positionals: [2, 0], build: (_, [namespace, pod]) => ({ evictPod: { namespace, pod } }) },
  "remove-node": { options: [], positionals: [1, 0], build: (_, [name]) => ({ removeNode: name }) },
  hold: { options: [], positionals: [1, 0], build: (_, [key]) => ({ holdInContainerCreating: key }) },
  release: { options: [], positionals: [1, 0], build: (_, [key]) => ({ releaseContainerCreating: key }) },
  clear: { options: [], positionals: [0, 0], build: () => ({ clear: true }) },
} satisfies Record<string, Action>));

/** Parses `fault` arguments (after the word `fault`) into the instruction to post, and the kubeconfig option. */
export function parseFaultArgs(args: readonly string[]): { kubeconfig: string | undefined; instruction: FaultInstruction } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const [name, ...positionals] = parsed.positionals;
  if (name === undefined) throw new CliUsageError("fault needs an action");
  const action = ACTIONS.get(name);
  if (!action) throw new CliUsageError(`unknown fault action "${name}"; known: ${[...ACTIONS.keys()].join(", ")}`);
  const given = Object.keys(parsed.values).filter((option) => option !== "kubeconfig");
  const misplaced = given.filter((option) => !action.options.some((allowed) => allowed === option));
  if (misplaced.length > 0) throw new CliUsageError(`${name} does not take ${misplaced.map((option) => `--${option}`).join(", ")}`);
  const [requiredCount, optionalCount] = action.positionals;
  if (positionals.length < requiredCount || positionals.length > requiredCount + optionalCount) {
    const expected = optionalCount === 0 ? `${requiredCount}` : `${requiredCount} to ${requiredCount + optionalCount}`;
    throw new CliUsageError(`${name} takes ${expected} argument(s), got ${positionals.length}: ${positionals.join(" ") || "(none)"}`);
  }
  const text = (option: OptionName): string | undefined => {
    const value = parsed.values[option];
    return typeof value === "string" ? value : undefined;
  };
  const values: Values = {
    string: text,
    number(option) {
      const raw = text(option);
      if (raw === undefined) return undefined;
      const value = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(value) || value < 0) throw new CliUsageError(`--${option} must be a non-negative number, got "${raw}"`);
      return value;
    },
    flag: (option) => parsed.values[option] === true,
  };
  return { kubeconfig: parsed.values.kubeconfig, instruction: action.build(values, positionals) };
}
