/** What the bench and its sim process (`sim-process.ts`) say to each other over the IPC channel. */
import type { RequestSnapshot } from "paperclip-k8s-sim";

export type SimCall = { id: number } & (
  | { call: "workspace"; agentId: string }
  | { call: "reset" }
  | { call: "measure" }
  | { call: "stop" }
);

/** The sim process's side of a batch, since the last reset. */
export interface SimMeasure {
  requests: RequestSnapshot;
  /** Run id → when the runtime deleted its Job (epoch ms). */
  jobDeletedAt: Record<string, number>;
  /** CPU of the sim process itself (API server, controllers, kubelet). */
  simCpuMs: number;
  /** CPU of the sim's container launcher process (spawning the pods' processes, writing their logs). */
  launcherCpuMs: number;
  /** CPU of the pods' processes (agent, shells, mounts) that ended. */
  podProcessesCpuMs: number;
  simRssMb: number;
}

export interface SimReady {
  /** The server env the runtime needs for this cluster (`ConformanceCluster.serverEnv`). */
  serverEnv: Record<string, string>;
  /** `ConformanceCluster.config()`: adapter config pointing at the cluster. */
  baseConfig: Record<string, unknown>;
  /** Host directory of the shared claim. */
  sharedRoot: string;
}

export type SimMessage = { ready: SimReady } | { id: number; result: unknown } | { id: number; error: string };
