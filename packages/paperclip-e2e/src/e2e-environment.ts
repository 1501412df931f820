/**
 * Everything an end-to-end test needs: a simulated cluster with a shared volume, an agent image holding the
 * fake agent CLI under both executable names (`claude`, `opencode`), a real Paperclip server whose home lies
 * on that shared volume, both adapters installed into it from the repo, and one company.
 */
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { claudeAgent } from "paperclip-adapter-claude-k8s";
import { agentCliFixturesDir, startConformanceCluster, type ConformanceCluster, type FakeAgentScenario } from "paperclip-k8s-runtime/testing";
import { paperclipApi, type JsonObject, type PaperclipApi } from "./paperclip-api.ts";
import { lookUpUser, startPaperclipServer, type PaperclipServer, type ServerUser } from "./paperclip-server.ts";

export const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");

const AGENT_IMAGE = "registry.example.test/paperclip/e2e-agents:fake";
const AGENT_EXECUTABLES = ["claude", "opencode"];

/** What the fake agent in the pod does, plus where it records its command line (see `fake-agent.mjs`). */
export type Scenario = FakeAgentScenario & { recordInvocationTo?: string };

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
  /** Adapter config for this cluster and the fake agent image. */
  agentConfig(): JsonObject;
  /** A task title that makes the fake agent play `scenario` (Paperclip puts the title in every prompt, resumed or not). */
  taskTitle(scenario: Scenario): string;
  /** A file path on the shared volume where the fake agent can record its invocation. */
  invocationFile(name: string): string;
  readInvocation(file: string): Promise<Invocation>;
  /** Jobs of one agent in the simulated cluster. */
  jobsOf(agentId: string): JsonObject[];
  stop(): Promise<void>;
}

/** The image's filesystem: the fake agent, the recorded transcripts, and one launcher per executable name. */
async function buildAgentImage(): Promise<{ dir: string; layers: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), "paperclip-e2e-image-"));
  await chmod(dir, 0o755);
  const fakeAgent = path.join(repoRoot, "packages", "k8s-runtime", "src", "testing", "fake-agent.mjs");
  await copyFile(fakeAgent, path.join(dir, "fake-agent.mjs"));
  await cp(agentCliFixturesDir, path.join(dir, "transcripts"), { recursive: true });
  for (const executable of AGENT_EXECUTABLES) {
    await writeFile(path.join(dir, executable), `#!/bin/sh\nexec node "$(dirname "$0")/fake-agent.mjs" "$@"\n`, { mode: 0o755 });
  }
  // Second layer: this Node's directory, so `node` in the pod is the one running the tests.
  return { dir, layers: [dir, path.dirname(await realpath(process.execPath))] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export async function startE2eEnvironment(installDir: string): Promise<E2eEnvironment> {
  const user = process.getuid?.() === 0 ? lookUpUser(process.env.PAPERCLIP_USER ?? "paperclip") : undefined;
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const image = await buildAgentImage();
    cleanups.push(() => rm(image.dir, { recursive: true, force: true }));
    const cluster = await startConformanceCluster(claudeAgent);
    cleanups.push(() => cluster.stop());
    cluster.sim.registerImage(AGENT_IMAGE, image.layers);

    // Paperclip's home on the shared volume: its instance root, and so every run directory, is where the pods see it.
    const home = path.join(cluster.sharedRoot, "paperclip-home");
    const records = path.join(cluster.sharedRoot, "invocations");
    await mkdir(records, { recursive: true });
    await chmod(records, 0o777);

    const server = await startPaperclipServer({ installDir, home, user });
    cleanups.push(() => server.stop());
    const api = paperclipApi(server.url);
    for (const pkg of ["adapter-claude", "adapter-opencode"]) await api.installAdapter(path.join(repoRoot, "packages", pkg));
    const companyId = await api.createCompany(`E2E ${Date.now()}`);

    return {
      cluster,
      server,
      api,
      companyId,
      user,
      agentConfig: () =>
        cluster.config({
          image: AGENT_IMAGE,
          // Unset: the runtime finds Paperclip's instance root itself (from PAPERCLIP_HOME, on the shared volume).
          instanceRoot: undefined,
          runAsUser: user?.uid ?? process.getuid?.(),
          runAsGroup: user?.gid ?? process.getgid?.(),
          paperclipApiUrl: server.url,
          retainJobs: false,
        }),
      taskTitle: (scenario) => `FAKE_AGENT_SCENARIO ${JSON.stringify(scenario)}`,
      invocationFile: (name) => path.join(records, `${name}.json`),
      readInvocation: async (file) => {
        const recorded: unknown = JSON.parse(await readFile(file, "utf8"));
        if (!isRecord(recorded) || !Array.isArray(recorded.argv) || typeof recorded.cwd !== "string") {
          throw new Error(`${file} is not a recorded invocation`);
        }
        return { argv: recorded.argv.map(String), cwd: recorded.cwd };
      },
      jobsOf: (agentId) =>
        cluster.sim.store
          .list("jobs", { namespace: cluster.namespace })
          .items.filter((job) => isRecord(job.metadata) && isRecord(job.metadata.labels) && job.metadata.labels["paperclip.io/agent-id"] === agentId),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
