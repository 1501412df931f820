/**
 * The bench's simulated cluster in its own process (started by `sim-client.ts`), so the bench process's CPU and
 * heap are the runtime's alone. It prepares the cluster for one adapter's agent, gives the sim's node room for
 * every pod, and answers the bench's calls over the IPC channel (see `SimCall`).
 */
import type { AdapterName } from "./options.ts";
import { claudeAgent } from "paperclip-adapter-claude-k8s";
import { opencodeAgent } from "paperclip-adapter-opencode-k8s";
import { startConformanceCluster } from "paperclip-k8s-runtime/testing";
import { containerLauncherPid, type SimCluster, type StoreEvent } from "paperclip-k8s-sim";
import { prepareServerPod } from "./server-pod.ts";
import type { SimCall, SimMeasure, SimMessage } from "./sim-protocol.ts";
import { processCpuMs } from "./usage.ts";

/** The runtime annotates every Job it creates with the run id (labels carry it sanitized); the older adapter labels it. */
const RUN_ID_KEY = "paperclip.io/run-id";
/**
 * The sim's node takes kubelet's default of 110 pods and 8 CPUs: every batch gets a node with room for every run, even
 * at the older adapter's default requests (1 CPU, 2 GiB per pod); the sim does not throttle CPU, so this costs nothing.
 */
const DEFAULT_NODE_PODS = 110;
const ROOM_PER_POD = { cpu: 4, memoryGi: 8 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function makeRoomForPods(sim: SimCluster, pods: number): void {
  const room: Record<string, string> = { pods: String(Math.max(pods, DEFAULT_NODE_PODS)), cpu: String(pods * ROOM_PER_POD.cpu), memory: `${pods * ROOM_PER_POD.memoryGi}Gi` };
  for (const node of sim.store.list("nodes").items) {
    sim.store.mutate("nodes", undefined, node.metadata.name ?? "", (object) => {
      if (!isRecord(object.status)) return;
      for (const field of ["capacity", "allocatable"]) {
        const resources = object.status[field];
        if (isRecord(resources)) Object.assign(resources, room);
      }
    });
  }
}

function send(message: SimMessage): void {
  process.send?.(message);
}

const [adapterArg = "", podsArg = "", surroundings = ""] = process.argv.slice(2);
const adapter: AdapterName = adapterArg === "opencode" ? "opencode" : "claude";
// Bookmarks as kube-apiserver sends them (one a minute): what the shared watches cost on a real cluster.
const cluster = await startConformanceCluster(adapter === "claude" ? claudeAgent : opencodeAgent, { bookmarkIntervalMs: 60_000 });
makeRoomForPods(cluster.sim, Number(podsArg));
const serverPodEnv = surroundings === "server-pod" ? await prepareServerPod(cluster) : {};

// When the runtime deleted each run's Job: completion detected and the output drained.
let jobDeletedAt = new Map<string, number>();
cluster.sim.store.subscribe("jobs", (event: StoreEvent) => {
  if (event.type !== "DELETED" && event.object.metadata.deletionTimestamp === undefined) return;
  const runId = event.object.metadata.annotations?.[RUN_ID_KEY] ?? event.object.metadata.labels?.[RUN_ID_KEY];
  if (runId !== undefined && !jobDeletedAt.has(runId)) jobDeletedAt.set(runId, Date.now());
});
/** The launcher's own CPU, and that of the pods' processes (its children, and any of this process's, e.g. probes). */
function launcherAndPodsCpuMs(): { launcherMs: number; podsMs: number } {
  const launcherPid = containerLauncherPid();
  const launcher = launcherPid === undefined ? { ownMs: 0, waitedChildrenMs: 0 } : processCpuMs(launcherPid);
  return { launcherMs: launcher.ownMs, podsMs: launcher.waitedChildrenMs + processCpuMs("self").waitedChildrenMs };
}

let cpuAtReset = process.cpuUsage();
let launcherAndPodsAtReset = launcherAndPodsCpuMs();

function measure(): SimMeasure {
  const cpu = process.cpuUsage(cpuAtReset);
  const { launcherMs, podsMs } = launcherAndPodsCpuMs();
  return {
    requests: cluster.sim.requests.snapshot(),
    jobDeletedAt: Object.fromEntries(jobDeletedAt),
    simCpuMs: (cpu.user + cpu.system) / 1000,
    launcherCpuMs: launcherMs - launcherAndPodsAtReset.launcherMs,
    podProcessesCpuMs: podsMs - launcherAndPodsAtReset.podsMs,
    simRssMb: process.memoryUsage.rss() / (1024 * 1024),
  };
}

async function answer(call: SimCall): Promise<unknown> {
  switch (call.call) {
    case "workspace":
      return cluster.workspace(call.agentId);
    case "reset":
      cluster.sim.requests.reset();
      jobDeletedAt = new Map();
      cpuAtReset = process.cpuUsage();
      launcherAndPodsAtReset = launcherAndPodsCpuMs();
      return null;
    case "measure":
      return measure();
    case "stop":
      await cluster.stop();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on("message", (call: SimCall) => {
  answer(call).then(
    (result) => send({ id: call.id, result }),
    (error: unknown) => send({ id: call.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
// The bench gone (crashed, killed): nothing may keep pods running.
process.on("disconnect", () => void cluster.stop().finally(() => process.exit(1)));
send({ ready: { serverEnv: { ...cluster.serverEnv, ...serverPodEnv }, baseConfig: cluster.config(), sharedRoot: cluster.sharedRoot } });
