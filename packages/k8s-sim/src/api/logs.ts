import { open, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import type { K8sObject, ObjectStore } from "../store.ts";
import { parseCriLine, podLogPath } from "../pod-log-files.ts";
import type { JsonObject } from "./json.ts";
import { objectAt, objectsAt, stringAt } from "./json.ts";
import { badRequest } from "./status.ts";

export interface LogOptions {
  container: string | undefined;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines: number | undefined;
  limitBytes: number | undefined;
  /** Only records at or after this instant (from `sinceTime` or `sinceSeconds`). */
  sinceMs: number | undefined;
}

const FOLLOW_POLL_MS = 50;

function intParam(query: URLSearchParams, name: string, minimum: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`${name}: Invalid value: "${raw}": must be an integer`);
  const value = Number(raw);
  if (value < minimum) throw badRequest(`${name}: Invalid value: ${value}: must be greater than or equal to ${minimum}`);
  return value;
}

const isTrue = (value: string | null) => value === "true" || value === "1";

/** Reads the log query parameters, rejecting bad values as the API server does. */
export function parseLogOptions(query: URLSearchParams): LogOptions {
  const sinceSeconds = intParam(query, "sinceSeconds", 1);
  const sinceTime = query.get("sinceTime");
  if (sinceSeconds !== undefined && sinceTime) throw badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified");
  let sinceMs: number | undefined;
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw badRequest(`sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`);
  } else if (sinceSeconds !== undefined) {
    sinceMs = Date.now() - sinceSeconds * 1000;
  }
  return {
    container: query.get("container") || undefined,
    follow: isTrue(query.get("follow")),
    previous: isTrue(query.get("previous")),
    timestamps: isTrue(query.get("timestamps")),
    tailLines: intParam(query, "tailLines", 0),
    limitBytes: intParam(query, "limitBytes", 1),
    sinceMs,
  };
}

interface ContainerState {
  waiting?: JsonObject;
  running?: JsonObject;
  terminated?: JsonObject;
}

function containerState(pod: K8sObject, container: string): ContainerState | undefined {
  const status = objectAt(pod, "status");
  const all = [...objectsAt(status, "initContainerStatuses"), ...objectsAt(status, "containerStatuses")];
  const entry = all.find((s) => stringAt(s, "name") === container);
  const state = objectAt(entry, "state");
  if (!state) return undefined;
  return { waiting: objectAt(state, "waiting"), running: objectAt(state, "running"), terminated: objectAt(state, "terminated") };
}

const WAITING_EXPLANATIONS: Record<string, string> = {
  ErrImagePull: "trying and failing to pull image",
  ImagePullBackOff: "trying and failing to pull image",
  InvalidImageName: "image can't be pulled",
};

/** Picks the container and checks it has output to give, with the API server's and kubelet's messages. */
function resolveContainer(pod: K8sObject, options: LogOptions): string {
  const podName = pod.metadata.name ?? "";
  const spec = objectAt(pod, "spec");
  const containers = objectsAt(spec, "containers").map((c) => stringAt(c, "name") ?? "");
  const initContainers = objectsAt(spec, "initContainers").map((c) => stringAt(c, "name") ?? "");
  let container = options.container;
  if (!container) {
    if (containers.length !== 1) {
      const initPart = initContainers.length ? ` or one of the init containers: [${initContainers.join(" ")}]` : "";
      throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${containers.join(" ")}]${initPart}`);
    }
    container = containers[0] ?? "";
  }
  if (!containers.includes(container) && !initContainers.includes(container)) {
    throw badRequest(`container ${container} is not valid for pod ${podName}`);
  }
  if (!stringAt(spec, "nodeName")) throw badRequest(`pod ${podName} does not have a host assigned`);
  if (options.previous) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
  const state = containerState(pod, container);
  if (!state?.running && !state?.terminated) {
    const reason = stringAt(state?.waiting, "reason") ?? "ContainerCreating";
    const explanation = WAITING_EXPLANATIONS[reason] ?? reason;
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${explanation}`);
  }
  return container;
}

/** Turns CRI records into output lines; partial records join the next record's content. */
class LogAssembler {
  private pending = "";
  private pendingTimestamp: string | undefined;
  private readonly options: LogOptions;

  constructor(options: LogOptions) {
    this.options = options;
  }

  /** Complete output lines (newline included) for the given file lines. */
  push(fileLines: string[]): string[] {
    const out: string[] = [];
    for (const fileLine of fileLines) {
      const record = parseCriLine(fileLine);
      if (!record) continue;
      if (this.options.sinceMs !== undefined && Date.parse(record.timestamp) < this.options.sinceMs) continue;
      this.pendingTimestamp ??= record.timestamp;
      this.pending += record.content;
      if (!record.full) continue;
      out.push(`${this.options.timestamps ? `${this.pendingTimestamp} ` : ""}${this.pending}\n`);
      this.pending = "";
      this.pendingTimestamp = undefined;
    }
    return out;
  }
}

/** Incremental reader of a growing file, yielding complete file lines. */
class FileLineReader {
  private offset = 0;
  private carry = "";
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  async readNew(): Promise<string[]> {
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch {
      return [];
    }
    if (size <= this.offset) return [];
    const handle = await open(this.path, "r");
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      // Only consume whole lines; a record being written stays for the next read.
      const chunk = buffer.subarray(0, bytesRead);
      const lastNewline = chunk.lastIndexOf(0x0a);
      if (lastNewline < 0) return [];
      this.offset += lastNewline + 1;
      const lines = (this.carry + chunk.subarray(0, lastNewline).toString("utf8")).split("\n");
      this.carry = "";
      return lines;
    } finally {
      await handle.close();
    }
  }
}

/**
 * Serves `GET pods/{name}/log`. Validation errors are thrown before anything is written;
 * `follow` streams until the container has terminated and its log is drained, or the pod is gone.
 */
export async function servePodLog(
  response: ServerResponse,
  store: ObjectStore,
  rootDir: string,
  pod: K8sObject,
  options: LogOptions,
): Promise<void> {
  const container = resolveContainer(pod, options);
  const namespace = pod.metadata.namespace ?? "";
  const podName = pod.metadata.name ?? "";
  const uid = pod.metadata.uid ?? "";
  const reader = new FileLineReader(podLogPath(rootDir, namespace, podName, uid, container));
  const assembler = new LogAssembler(options);
  response.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });

  let bytesLeft = options.limitBytes ?? Number.POSITIVE_INFINITY;
  const emit = (lines: string[]): boolean => {
    for (const line of lines) {
      if (bytesLeft <= 0) return false;
      const bytes = Buffer.from(line, "utf8");
      const part = bytes.length > bytesLeft ? bytes.subarray(0, bytesLeft) : bytes;
      response.write(part);
      bytesLeft -= part.length;
    }
    return bytesLeft > 0;
  };

  const initial = assembler.push(await reader.readNew());
  const tailed = options.tailLines === undefined ? initial : initial.slice(Math.max(0, initial.length - options.tailLines));
  if (!emit(tailed) || !options.follow) {
    response.end();
    return;
  }

  let clientGone = false;
  response.on("close", () => {
    clientGone = true;
  });
  for (;;) {
    // Look at the pod first: once it is terminated (or gone), one more read drains the file.
    const current = store.get("pods", namespace, podName);
    const finished = !current || current.metadata.uid !== uid || containerState(current, container)?.terminated !== undefined;
    if (!emit(assembler.push(await reader.readNew())) || finished || clientGone) break;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
  }
  if (!response.writableEnded) response.end();
}
