/**
 * Everything an end-to-end test needs: a simulated cluster with a shared volume, an agent image holding the
 * fake agent CLI under every executable name (`claude`, `opencode`, `gemini`), a real Paperclip server whose home lies
 * on that shared volume, the adapters installed into it from the repo, and one company.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { claudeAgent } from "paperclip-adapter-claude-k8s";
import { codexAgent } from "paperclip-adapter-codex-k8s";
import { geminiAgent } from "paperclip-adapter-gemini-k8s";
import { opencodeAgent } from "paperclip-adapter-opencode-k8s";
import { buildFakeAgentImage, startConformanceCluster, type ConformanceCluster, type FakeAgentScenario } from "paperclip-k8s-runtime/testing";
import { paperclipApi, type JsonObject, type PaperclipApi } from "./paperclip-api.ts";
import { lookUpUser, startPaperclipServer, type PaperclipServer, type ServerUser } from "./paperclip-server.ts";

export const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");

export interface Invocation {
  argv: string[];
  cwd: string;
}

export interface E2eEnvironment {
  cluster: ConformanceCluster;
  server: PaperclipServer;
  api: PaperclipApi;
  companyId: string;
  /** The user the server and the agent pods run as (`undefined` when the tests do not run as root). */
  user: ServerUser | undefined;
  /** Adapter config for this cluster and the fake agent image; `overrides` win. */
  agentConfig(overrides?: JsonObject): JsonObject;
  /** A new task's title that makes the fake agent play `scenario` (Paperclip puts the title in every prompt, resumed or not). */
  taskTitle(scenario: FakeAgentScenario): string;
  /** Where a file the fake agent wrote at `name` relative to its working directory (Paperclip's default workspace of the agent) lies on the server. */
  invocationFile(agentId: string, name: string): string;
  readInvocation(file: string): Promise<Invocation>;
  /** Jobs of one agent in the simulated cluster. */
  jobsOf(agentId: string): JsonObject[];
  /** Pods of one agent in the simulated cluster. */
  podsOf(agentId: string): JsonObject[];
  stop(): Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface E2eOptions {
  /** Extra environment for the Paperclip server (e.g. `npm_config_registry`). */
  serverEnv?: Record<string, string>;
  /** Install both adapters from the repo (`isLocalPath`); default true. Off when the test installs them itself. */
  installFromRepo?: boolean;
}

export async function startE2eEnvironment(installDir: string, options: E2eOptions = {}): Promise<E2eEnvironment> {
  const user = process.getuid?.() === 0 ? lookUpUser(process.env.PAPERCLIP_USER ?? "paperclip") : undefined;
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    // One fake-agent image answers to every CLI's name; the cluster removes it when it stops.
    const cluster = await startConformanceCluster(claudeAgent, { agentImage: await buildFakeAgentImage([claudeAgent, opencodeAgent, codexAgent, geminiAgent]) });
    cleanups.push(() => cluster.stop());

    // Paperclip's home on the shared volume: its instance root, and so every run directory, is where the pods see it.
    const home = path.join(cluster.sharedRoot, "paperclip-home");
    // Paperclip's instance root with its default instance id, where it puts each agent's default workspace.
    const instanceRoot = path.join(home, "instances", "default");

    // The operator's side of the simulated set-up (its kubeconfig file allowed, its loopback API URL too, the
    // instance root and shared volume), plus what the test adds (e.g. the registry npm installs from).
    const server = await startPaperclipServer({ installDir, home, user, env: { ...cluster.serverEnv, ...options.serverEnv } });
    cleanups.push(() => server.stop());
    const api = paperclipApi(server.url);
    const ofAgent = (resource: "jobs" | "pods", agentId: string): JsonObject[] =>
      cluster.sim.store
        .list(resource, { namespace: cluster.namespace })
        .items.filter((item) => isRecord(item.metadata) && isRecord(item.metadata.labels) && item.metadata.labels["paperclip.io/agent-id"] === agentId);
    if (options.installFromRepo ?? true) {
      for (const pkg of ["adapter-claude", "adapter-opencode", "adapter-codex", "adapter-gemini"]) await api.installAdapter(path.join(repoRoot, "packages", pkg));
    }
    const companyId = await api.createCompany(`E2E ${Date.now()}`);
    let tasksTitled = 0;

    return {
      cluster,
      server,
      api,
      companyId,
      user,
      agentConfig: (overrides = {}) =>
        cluster.config({
          // Unset: the runtime finds Paperclip's instance root itself (from PAPERCLIP_HOME, on the shared volume).
          instanceRoot: undefined,
          runAsUser: user?.uid ?? process.getuid?.(),
          runAsGroup: user?.gid ?? process.getgid?.(),
          paperclipApiUrl: server.url,
          retainJobs: false,
          ...overrides,
        }),
      // Numbered: Paperclip hands back the existing issue when a new one has the same title.
      taskTitle: (scenario) => `FAKE_AGENT_SCENARIO ${JSON.stringify(scenario)} (task ${++tasksTitled})`,
      invocationFile: (agentId, name) => path.join(instanceRoot, "workspaces", agentId, name),
      readInvocation: async (file) => {
        const recorded: unknown = JSON.parse(await readFile(file, "utf8"));
        if (!isRecord(recorded) || !Array.isArray(recorded.argv) || typeof recorded.cwd !== "string") {
          throw new Error(`${file} is not a recorded invocation`);
        }
        return { argv: recorded.argv.map(String), cwd: recorded.cwd };
      },
      jobsOf: (agentId) => ofAgent("jobs", agentId),
      podsOf: (agentId) => ofAgent("pods", agentId),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
