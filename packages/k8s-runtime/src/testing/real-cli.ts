/**
 * Test support: the real agent CLIs (installed as devDependencies) as the image of simulated agent
 * pods, talking to the scripted LLM server.
 */
import type { OracleReading } from "./fixture-verdict.ts";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AdapterExecutionContext, AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { afterAll, beforeAll, expect } from "vitest";
import type { AgentDefinition } from "../agent.ts";
import { isJsonObject } from "../agent-kit/json-fields.ts";
import { ANNOTATION_AGENT_ID } from "../labels.ts";
import { stopReapers } from "../reaper.ts";
import { stopSharedWatches } from "../shared-watch.ts";
import type { LlmScenario } from "./llm-server/scenario.ts";
import { startScriptedLlmServer, type LlmRequestRecord, type ScriptedLlmServer } from "./llm-server/server.ts";
import { recordedRun, type RecordedRun } from "./run-context.ts";
import { startConformanceCluster, type AgentImage, type ConformanceCluster } from "./sim-harness.ts";

export type RealCli = "claude" | "opencode";

/**
 * Where each CLI's binary lives. The per-platform package ships the binary itself; the main package's
 * `bin` is that binary only after its postinstall step ran (npm may skip install scripts), so it is the fallback.
 */
const CLI_PACKAGES: Record<RealCli, { platformPackage: string; platformBinary: string; mainPackage: string }> = {
  claude: {
    platformPackage: `@anthropic-ai/claude-code-${process.platform}-${process.arch}`,
    platformBinary: "claude",
    mainPackage: "@anthropic-ai/claude-code",
  },
  opencode: { platformPackage: `opencode-${process.platform}-${process.arch}`, platformBinary: "bin/opencode", mainPackage: "opencode-ai" },
};

const requireFromHere = createRequire(import.meta.url);

function packageDir(name: string): string | null {
  try {
    return path.dirname(requireFromHere.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** The host path of a real CLI's executable, or an error saying what to install. */
export function realCliBinary(cli: RealCli): string {
  const { platformPackage, platformBinary, mainPackage } = CLI_PACKAGES[cli];
  const platformDir = packageDir(platformPackage);
  if (platformDir !== null && existsSync(path.join(platformDir, platformBinary))) return path.join(platformDir, platformBinary);
  const mainDir = packageDir(mainPackage);
  if (mainDir !== null) {
    const manifest: unknown = requireFromHere(`${mainPackage}/package.json`);
    const bin = isJsonObject(manifest) && isJsonObject(manifest.bin) ? manifest.bin : {};
    const relative = bin[cli];
    if (typeof relative === "string" && existsSync(path.join(mainDir, relative))) return path.join(mainDir, relative);
  }
  throw new Error(`the ${cli} CLI is not installed: neither ${platformPackage} nor ${mainPackage} is in node_modules (npm install at the repository root)`);
}

/**
 * An image whose CLI is the real one: a small shim named like the CLI (layer 0) that runs the binary
 * from layer 1, the binary's own directory. The shim finds layer 1 beside its own mount point, since
 * pods see image layers only at their mount paths (symlinks into the host's node_modules would break).
 */
export async function buildRealCliImage(cli: RealCli): Promise<AgentImage> {
  const binary = realCliBinary(cli);
  const shimDir = await mkdtemp(path.join(tmpdir(), `real-${cli}-image-`));
  await chmod(shimDir, 0o755);
  await writeFile(path.join(shimDir, cli), `#!/bin/sh\nexec "$(dirname "$0")/../1/${path.basename(binary)}" "$@"\n`, { mode: 0o755 });
  return { layers: [shimDir, path.dirname(binary)], remove: () => rm(shimDir, { recursive: true, force: true }) };
}

/** The model name the OpenCode runs use: a provider `scripted` whose only model is `scripted-model`. */
export const OPENCODE_SCRIPTED_MODEL = "scripted/scripted-model";

export interface RealCliRunEnv {
  scenario: LlmScenario;
  /** Keeps this run's LLM requests apart (see `ScriptedLlmServer.requests`). */
  tag: string;
  /** OpenCode config merged into the generated one (e.g. `{ agent: { build: { steps: 2 } } }`). */
  opencodeConfig?: Record<string, unknown>;
}

/**
 * Adapter config `env` that points a real CLI at the scripted LLM, offline, with retries kept low:
 * claude honours `CLAUDE_CODE_MAX_RETRIES`; opencode has no such setting but honours the server's
 * `retry-after-ms`, which keeps its five retries quick.
 */
export function realCliEnv(cli: RealCli, llm: ScriptedLlmServer, run: RealCliRunEnv): Record<string, string> {
  if (cli === "claude") {
    return { ANTHROPIC_BASE_URL: llm.baseUrl(run.scenario, run.tag), ANTHROPIC_API_KEY: "dummy", CLAUDE_CODE_MAX_RETRIES: "1" };
  }
  const config = {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
    provider: {
      scripted: {
        npm: "@ai-sdk/openai-compatible",
        name: "Scripted LLM",
        options: { baseURL: llm.openAiBaseUrl(run.scenario, run.tag), apiKey: "dummy" },
        models: { "scripted-model": { name: "Scripted model", tool_call: true, limit: { context: 128000, output: 8192 } } },
      },
    },
    ...run.opencodeConfig,
  };
  return { OPENCODE_CONFIG_CONTENT: JSON.stringify(config), OPENCODE_DISABLE_MODELS_FETCH: "1" };
}

function configEnv(config: Record<string, unknown> | undefined): Record<string, unknown> {
  return isJsonObject(config?.env) ? config.env : {};
}

/** The task every real-CLI run gets; the scripted LLM answers it with `SCRIPTED_COMMAND`. */
export const REAL_CLI_PROMPT = "Create out.txt containing hello using the shell.";

export interface RealCliRunInput {
  scenario: LlmScenario;
  agentId?: string;
  workspaceCwd?: string;
  sessionParams?: Record<string, unknown> | null;
  /** Adapter config on top of the cluster's; its `env` is added to the one pointing at the LLM. */
  config?: Record<string, unknown>;
  opencodeConfig?: Record<string, unknown>;
  /** Also sees every log chunk as it arrives (e.g. to print the transcript live). */
  onLog?: AdapterExecutionContext["onLog"];
  /** Runs alongside `execute()`; the run is awaited after it. */
  during?: (run: RecordedRun, agentId: string, llmRequests: () => LlmRequestRecord[]) => Promise<void>;
}

export interface RealCliRun {
  result: AdapterExecutionResult;
  run: RecordedRun;
  agentId: string;
  workspaceCwd: string;
  /** What the scripted LLM saw from this run. */
  llmRequests(): LlmRequestRecord[];
}

export interface RealCliCluster extends ConformanceCluster {
  cli: RealCli;
  llm: ScriptedLlmServer;
  /** One run of the real CLI through the adapter's `execute()`, pointed at the scripted LLM. */
  run(input: RealCliRunInput): Promise<RealCliRun>;
  /** The name of the agent's pod, or null while there is none. */
  podOf(agentId: string): string | null;
}

/** A simulated cluster whose agent image is the real `cli`, plus a scripted LLM server; `stop()` ends both. */
export async function startRealCliCluster(agent: AgentDefinition<unknown>, adapter: ServerAdapterModule, cli: RealCli): Promise<RealCliCluster> {
  const llm = await startScriptedLlmServer();
  let cluster: ConformanceCluster;
  try {
    cluster = await startConformanceCluster(agent, await buildRealCliImage(cli));
  } catch (error) {
    await llm.stop();
    throw error;
  }
  return {
    ...cluster,
    cli,
    llm,
    run: async (input) => {
      const agentId = input.agentId ?? randomUUID();
      const workspaceCwd = input.workspaceCwd ?? (await cluster.workspace(agentId));
      const tag = randomUUID().slice(0, 8);
      const env = realCliEnv(cli, llm, { scenario: input.scenario, tag, opencodeConfig: input.opencodeConfig });
      const run = recordedRun({
        agentId,
        adapterType: agent.type,
        workspaceCwd,
        taskId: `task-${agentId}`,
        sessionParams: input.sessionParams ?? null,
        config: cluster.config({
          promptTemplate: REAL_CLI_PROMPT,
          ...(cli === "opencode" ? { model: OPENCODE_SCRIPTED_MODEL } : {}),
          ...input.config,
          env: { ...env, ...configEnv(input.config) },
        }),
      });
      const { onLog } = input;
      if (onLog !== undefined) {
        const record = run.ctx.onLog;
        run.ctx.onLog = async (stream, chunk) => {
          await record(stream, chunk);
          await onLog(stream, chunk);
        };
      }
      const llmRequests = () => llm.requests(tag);
      const execution = adapter.execute(run.ctx);
      if (input.during) await input.during(run, agentId, llmRequests);
      return { result: await execution, run, agentId, workspaceCwd, llmRequests };
    },
    podOf: (agentId) =>
      cluster.sim.store.list("pods").items.find((pod) => pod.metadata.annotations?.[ANNOTATION_AGENT_ID] === agentId)?.metadata.name ?? null,
    stop: async () => {
      await cluster.stop();
      await llm.stop();
    },
  };
}

/**
 * For a test file of real-CLI runs: starts the cluster before its tests and, after them, stops it together
 * with the runtime's process-wide reapers and shared watches that `execute()` started. Returns the cluster's getter.
 */
export function useRealCliCluster(agent: AgentDefinition<unknown>, adapter: ServerAdapterModule, cli: RealCli): () => RealCliCluster {
  let cluster: RealCliCluster | undefined;
  beforeAll(async () => {
    cluster = await startRealCliCluster(agent, adapter, cli);
  });
  afterAll(async () => {
    stopReapers();
    await stopSharedWatches();
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error(`the real-${cli} cluster is not started: use it inside a test`);
    return cluster;
  };
}

/** Files under a directory, recursively, relative to it (e.g. to find a CLI's session files in the agent's HOME). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

/** Our result must agree with Paperclip's own parser (`read`) on the same streamed transcript. */
export function expectAgreesWithOracle({ result, run }: RealCliRun, read: (transcript: string) => OracleReading): void {
  const oracle = read(run.transcript().join(""));
  // A run that must not be resumed reports no session, whatever the transcript says.
  expect(result.sessionId ?? null).toBe(result.clearSession ? null : oracle.sessionId);
  expect(result.usage ?? null).toEqual(oracle.usage);
  expect(result.costUsd ?? null).toBe(oracle.costUsd);
  expect(result.summary ?? "").toBe(oracle.summary);
}
