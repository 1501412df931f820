import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CliUsageError, parseFaultArgs } from "./fault-args.ts";

export const DEFAULT_KUBECONFIG = "./sim-kubeconfig.json";

export const REQUESTS_USAGE = `Usage: paperclip-k8s-sim requests [--kubeconfig <path>] [--reset]

Prints a running sim's request counters as JSON (by resource and verb, by user agent, open watches).
--reset zeroes them (and prints the zeroed counters).`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The entry called `name` of a kubeconfig list (`contexts`, `clusters`). */
function named(list: unknown, name: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const entry of list) if (isRecord(entry) && entry.name === name) return entry;
  return undefined;
}

/** The API server URL of the kubeconfig's current context (the sim writes its kubeconfig as JSON). */
export function serverFromKubeconfig(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read the kubeconfig ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON; pass the kubeconfig the sim wrote (--kubeconfig when it was started)`);
  }
  const current = isRecord(config) ? config["current-context"] : undefined;
  const context = isRecord(config) ? named(config.contexts, current)?.context : undefined;
  const cluster = isRecord(config) && isRecord(context) ? named(config.clusters, context.cluster)?.cluster : undefined;
  const server = isRecord(cluster) ? cluster.server : undefined;
  if (typeof server !== "string" || server === "") throw new Error(`${file} names no server for its current context`);
  return server.replace(/\/+$/, "");
}

/** Sends one request to the sim; a non-2xx answer becomes an error carrying the server's Status message. */
async function callSim(server: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${server}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new Error(`cannot reach the sim at ${server} (is it running?): ${cause}`);
  }
  const text = await response.text();
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // not JSON: report the text as is
  }
  if (!response.ok) {
    const message = isRecord(answer) && typeof answer.message === "string" ? answer.message : text;
    throw new Error(`the sim refused ${method} ${path} (${response.status}): ${message}`);
  }
  return answer;
}

/** `fault ...`: posts the instruction to `/_sim/faults`. */
export async function runFaultCommand(args: readonly string[]): Promise<string> {
  const { kubeconfig, instruction } = parseFaultArgs(args);
  const server = serverFromKubeconfig(kubeconfig ?? DEFAULT_KUBECONFIG);
  await callSim(server, "POST", "/_sim/faults", instruction);
  return `applied ${JSON.stringify(instruction)}`;
}

/** `requests [--reset]`: the request counters from `/_sim/requests`, as indented JSON. */
export async function runRequestsCommand(args: readonly string[]): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { kubeconfig: { type: "string", default: DEFAULT_KUBECONFIG }, reset: { type: "boolean", default: false } },
      strict: true,
    }));
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const server = serverFromKubeconfig(values.kubeconfig);
  return JSON.stringify(await callSim(server, values.reset ? "DELETE" : "GET", "/_sim/requests"), null, 2);
}
