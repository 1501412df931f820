import { chmod, copyFile, cp, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSimCluster, type SimCluster } from "paperclip-k8s-sim";
import type { AgentDefinition } from "../agent.ts";
import { ALLOW_LOOPBACK_API_URL_ENV } from "../config.ts";
import { ALLOWED_FILE_ROOTS_ENV } from "../server-paths.ts";
import { agentCliFixturesDir } from "./agent-cli-fixtures.ts";
import { sampleCommandInput } from "./command-input.ts";
import { SHARED_VOLUME_CLAIM_ENV, SHARED_VOLUME_MOUNT_PATH_ENV } from "../self-pod.ts";

/** User the simulated agent pods run as (non-root, as in production). */
export const AGENT_UID = 1000;

export interface ConformanceCluster {
  sim: SimCluster;
  namespace: string;
  claimName: string;
  /** Host directory of the shared claim; agent pods mount it at this same path. */
  sharedRoot: string;
  /** Paperclip's instance root on the shared volume. */
  instanceRoot: string;
  /** Image reference whose filesystem holds the agent CLI (the fake one by default) under the adapter's executable name. */
  image: string;
  /**
   * The server env a Paperclip server needs to run agents on this cluster, as an operator of such a set-up would
   * set it: the kubeconfig file (a temporary path) is an allowed file root, and the loopback API URL is allowed
   * because the simulated pods are local processes that do reach 127.0.0.1. Also set on this process's env
   * while the cluster runs (the tests' `execute()` is the server).
   */
  serverEnv: Record<string, string>;
  /** Adapter config that points at this cluster; `overrides` win. */
  config(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** The agent's default workspace on the shared volume (`<instanceRoot>/workspaces/<agentId>`), writable by the agent user. */
  workspace(agentId: string): Promise<string>;
  stop(): Promise<void>;
}

/** The executable an agent's command starts (argv[0]): what the image must hold. */
function executableOf(agent: AgentDefinition<unknown>): string {
  const executable = agent.buildCommand(sampleCommandInput()).argv[0];
  if (!executable || executable.includes("/")) throw new Error(`agent ${agent.type} has no plain executable name`);
  return executable;
}

/**
 * Builds the fake agent's image: a directory with the fake agent, the recorded transcripts, and, for each
 * of `agents`, an executable named like its CLI (argv[0] of its command) that starts the fake agent. One
 * image can so stand in for several agents' CLIs (the Paperclip end-to-end runs claude_k8s and opencode_k8s).
 */
export async function buildFakeAgentImage(agents: readonly AgentDefinition<unknown>[]): Promise<AgentImage> {
  const executables = [...new Set(agents.map(executableOf))];
  if (executables.length === 0) throw new Error("buildFakeAgentImage needs at least one agent");
  const dir = await mkdtemp(path.join(tmpdir(), "fake-agent-image-"));
  await chmod(dir, 0o755);
  await copyFile(fileURLToPath(new URL("./fake-agent.mjs", import.meta.url)), path.join(dir, "fake-agent.mjs"));
  await cp(agentCliFixturesDir, path.join(dir, "transcripts"), { recursive: true });
  for (const executable of executables) {
    await writeFile(path.join(dir, executable), `#!/bin/sh\nexec node "$(dirname "$0")/fake-agent.mjs" "$@"\n`, { mode: 0o755 });
  }
  // The image's second layer is this Node's own directory, so `node` in the pod is the one running the tests.
  return { layers: [dir, path.dirname(await realpath(process.execPath))], remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Host directories standing in for an agent image (the first goes first on the pod's PATH). */
export interface AgentImage {
  layers: string[];
  /** Removes what was built for the image. */
  remove(): Promise<void>;
}

export interface ConformanceClusterOptions {
  /** The agent's image layers; default the fake agent's. The cluster removes them on stop. */
  agentImage?: AgentImage;
  /**
   * How often the sim's watches get a BOOKMARK; default every second, not kube-apiserver's minute: the runtime then
   * checks a silent watch after 10 s (its floor) rather than 90 s (1.5 × the cadence it learns), which the
   * held-watch scenario waits for. The bench passes kube-apiserver's 60 s.
   */
  bookmarkIntervalMs?: number;
}

/** Starts a simulated cluster prepared for running `agent` through `execute()` (see `ConformanceClusterOptions`). */
export async function startConformanceCluster(agent: AgentDefinition<unknown>, options: ConformanceClusterOptions = {}): Promise<ConformanceCluster> {
  const { layers, remove: removeImage } = options.agentImage ?? (await buildFakeAgentImage([agent]));
  const image = `registry.example.test/paperclip/${agent.containerName}:conformance`;
  const sim = await startSimCluster({ images: { [image]: layers }, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1_000 });
  const namespace = "default";
  // As an operator's agent namespace: pods that break the restricted Pod Security Standard are refused.
  sim.store.mutate("namespaces", undefined, namespace, (object) => {
    object.metadata = { ...object.metadata, labels: { ...object.metadata?.labels, "pod-security.kubernetes.io/enforce": "restricted" } };
  });
  const claimName = "paperclip-data";
  await sim.store.create("persistentvolumeclaims", {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimName, namespace },
    spec: { accessModes: ["ReadWriteMany"], resources: { requests: { storage: "1Gi" } } },
  });
  const sharedRoot = sim.pvcHostPath(namespace, claimName);
  await mkdir(sharedRoot, { recursive: true });
  // The agent user must be able to walk down to the claim, as on a real node.
  for (let dir = sharedRoot; dir.startsWith(sim.rootDir); dir = path.dirname(dir)) await chmod(dir, 0o755);
  // Paperclip's home and instance root on the shared volume, as in production (the Paperclip e2e's server uses this home).
  const paperclipHome = path.join(sharedRoot, "paperclip-home");
  // Not created here: a Paperclip server started on this home (the e2e) creates it as its own user.
  const instanceRoot = path.join(paperclipHome, "instances", "default");
  // What an operator sets on the server: the instance root and the shared volume are the server's, never agent config's.
  const serverEnv = {
    [ALLOWED_FILE_ROOTS_ENV]: [process.env[ALLOWED_FILE_ROOTS_ENV], sim.kubeconfigPath].filter(Boolean).join(":"),
    [ALLOW_LOOPBACK_API_URL_ENV]: "true",
    PAPERCLIP_HOME: paperclipHome,
    PAPERCLIP_INSTANCE_ID: "default",
    [SHARED_VOLUME_CLAIM_ENV]: claimName,
    [SHARED_VOLUME_MOUNT_PATH_ENV]: sharedRoot,
  };
  const savedEnv = Object.fromEntries(Object.keys(serverEnv).map((name) => [name, process.env[name]]));
  Object.assign(process.env, serverEnv);
  return {
    sim,
    serverEnv,
    namespace,
    claimName,
    sharedRoot,
    instanceRoot,
    image,
    config: (overrides = {}) => ({
      kubeconfig: sim.kubeconfigPath,
      namespace,
      image,
      imagePullPolicy: "IfNotPresent",
      runAsUser: AGENT_UID,
      runAsGroup: AGENT_UID,
      paperclipApiUrl: "http://127.0.0.1:3100",
      timeoutSec: 120,
      graceSec: 2,
      keepaliveSec: 5,
      ...overrides,
    }),
    workspace: async (agentId) => {
      // Paperclip's default agent workspace: the only place in the instance root besides its home that an agent's pod mounts.
      const dir = path.join(instanceRoot, "workspaces", agentId);
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
      return dir;
    },
    stop: async () => {
      for (const [name, value] of Object.entries(savedEnv)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await sim.stop();
      await removeImage();
    },
  };
}
