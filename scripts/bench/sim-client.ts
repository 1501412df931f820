/** Starts the bench's simulated cluster in its own process (`sim-process.ts`) and calls it over IPC. */
import { fork, type ChildProcess } from "node:child_process";
import type { AdapterName } from "./options.ts";
import type { SimCall, SimMeasure, SimMessage, SimReady } from "./sim-protocol.ts";

/** The cluster as a batch sees it: everything about the sim goes through its process. */
export interface BenchCluster {
  /** Host directory of the shared claim. */
  sharedRoot: string;
  /** Adapter config pointing at the cluster; `overrides` win. */
  config(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The agent's workspace on the shared volume, writable by the agent user. */
  workspace(agentId: string): Promise<string>;
  /** Zeroes the sim's request counters, its CPU baseline and its record of Job deletions. */
  reset(): Promise<void>;
  measure(): Promise<SimMeasure>;
  stop(): Promise<void>;
}

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Call = WithoutId<SimCall>;

function isSimMeasure(value: unknown): value is SimMeasure {
  if (typeof value !== "object" || value === null) return false;
  const fields: Record<keyof SimMeasure, string> = { requests: "object", jobDeletedAt: "object", simCpuMs: "number", launcherCpuMs: "number", podProcessesCpuMs: "number", simRssMb: "number" };
  return Object.entries(fields).every(([key, type]) => typeof Reflect.get(value, key) === type);
}

function isMessage(value: unknown): value is SimMessage {
  return typeof value === "object" && value !== null && ("ready" in value || "id" in value);
}

/** `inServerPod`: the cluster also holds what an adapter living in the server's pod expects (`server-pod.ts`). */
export async function startBenchSim(adapter: AdapterName, pods: number, inServerPod: boolean): Promise<BenchCluster> {
  const args = [adapter, String(pods), ...(inServerPod ? ["server-pod"] : [])];
  const child: ChildProcess = fork(new URL("./sim-process.ts", import.meta.url), args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const ready = new Promise<SimReady>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      const error = new Error(`the sim process ended (exit ${code ?? signal})`);
      reject(error);
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
    });
    child.on("message", (message: unknown) => {
      if (!isMessage(message)) return;
      if ("ready" in message) return resolve(message.ready);
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if ("error" in message) waiting?.reject(new Error(`the sim process: ${message.error}`));
      else waiting?.resolve(message.result);
    });
  });
  const { serverEnv, baseConfig, sharedRoot } = await ready;
  // This process is the Paperclip server that runs the agents on that cluster.
  Object.assign(process.env, serverEnv);
  const call = (request: Call) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...request, id });
    });
  return {
    sharedRoot,
    config: (overrides = {}) => ({ ...baseConfig, ...overrides }),
    workspace: async (agentId) => {
      const dir = await call({ call: "workspace", agentId });
      if (typeof dir !== "string") throw new Error("the sim process answered a workspace call with no path");
      return dir;
    },
    reset: async () => void (await call({ call: "reset" })),
    measure: async () => {
      const measured = await call({ call: "measure" });
      if (!isSimMeasure(measured)) throw new Error("the sim process answered a measure call with something else");
      return measured;
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await call({ call: "stop" }).catch(() => undefined);
      await exited;
    },
  };
}
