/**
 * Test support: the real `codex` (the devDependency @openai/codex) as the image of simulated agent pods, pointed at
 * the scripted LLM's OpenAI Responses API through a custom model provider, offline. Not built, not published.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { stopReapers, stopSharedWatches, type AgentDefinition } from "paperclip-k8s-runtime";
import {
  recordedRun,
  REAL_CLI_PROMPT,
  startConformanceCluster,
  startScriptedLlmServer,
  type AgentImage,
  type ConformanceCluster,
  type LlmRequestRecord,
  type LlmScenario,
  type RecordedRun,
  type ScriptedLlmServer,
} from "paperclip-k8s-runtime/testing";
import { afterAll, beforeAll } from "vitest";

/** The model the scripted provider serves. */
export const SCRIPTED_MODEL = "scripted-model";

/** The host path of the real Codex binary, from the platform package @openai/codex installs as its optional dependency. */
export function codexBinary(): string {
  const require = createRequire(import.meta.url);
  const triple = `${process.arch === "x64" ? "x86_64" : "aarch64"}-unknown-linux-musl`;
  const platformPackage = `@openai/codex-${process.platform}-${process.arch}`;
  const binary = path.join(path.dirname(require.resolve(`${platformPackage}/package.json`)), "vendor", triple, "bin", "codex");
  if (!existsSync(binary)) throw new Error(`the codex binary is missing at ${binary}: npm install at the repository root (${platformPackage})`);
  return binary;
}

/** Layer 0 holds a `codex` shim that runs the binary from layer 1 (pods see image layers only at their mount paths). */
async function buildCodexImage(): Promise<AgentImage> {
  const binary = codexBinary();
  const shimDir = await mkdtemp(path.join(tmpdir(), "real-codex-image-"));
  await chmod(shimDir, 0o755);
  await writeFile(path.join(shimDir, "codex"), `#!/bin/sh\nexec "$(dirname "$0")/../1/codex" "$@"\n`, { mode: 0o755 });
  return { layers: [shimDir, path.dirname(binary)], remove: () => rm(shimDir, { recursive: true, force: true }) };
}

/**
 * `extraArgs` that point Codex at the scripted LLM (a `responses` provider, one retry) and keep it offline: no plugin
 * sync (it fetches from github.com and chatgpt.com otherwise), no analytics.
 */
export function scriptedProviderArgs(llm: ScriptedLlmServer, scenario: LlmScenario, tag: string): string[] {
  const provider = `{ name = "Scripted LLM", base_url = "${llm.openAiBaseUrl(scenario, tag)}", wire_api = "responses", env_key = "OPENAI_API_KEY", request_max_retries = 1, stream_max_retries = 1 }`;
  return ["-c", `model_providers.scripted=${provider}`, "-c", "model_provider=scripted", "-c", "analytics.enabled=false", "--disable", "plugins"];
}

export interface CodexRunInput {
  scenario: LlmScenario;
  agentId?: string;
  workspaceCwd?: string;
  sessionParams?: Record<string, unknown> | null;
  config?: Record<string, unknown>;
  /** Runs alongside `execute()`; the run is awaited after it. */
  during?: (run: RecordedRun, agentId: string, llmRequests: () => LlmRequestRecord[]) => Promise<void>;
}

export interface CodexRun {
  result: AdapterExecutionResult;
  run: RecordedRun;
  agentId: string;
  workspaceCwd: string;
  llmRequests(): LlmRequestRecord[];
}

export interface RealCodexCluster extends ConformanceCluster {
  llm: ScriptedLlmServer;
  run(input: CodexRunInput): Promise<CodexRun>;
  podOf(agentId: string): string | null;
}

/** For a test file: a simulated cluster whose agent image is the real Codex, and a scripted LLM; both stop after its tests. */
export function useRealCodexCluster(agent: AgentDefinition<unknown>, adapter: ServerAdapterModule): () => RealCodexCluster {
  let cluster: RealCodexCluster | undefined;
  beforeAll(async () => {
    const llm = await startScriptedLlmServer();
    const sim = await startConformanceCluster(agent, await buildCodexImage()).catch(async (error: unknown) => {
      await llm.stop();
      throw error;
    });
    cluster = {
      ...sim,
      llm,
      run: async (input) => {
        const agentId = input.agentId ?? randomUUID();
        const workspaceCwd = input.workspaceCwd ?? (await sim.workspace(agentId));
        const tag = randomUUID().slice(0, 8);
        const run = recordedRun({
          agentId,
          adapterType: agent.type,
          workspaceCwd,
          taskId: `task-${agentId}`,
          sessionParams: input.sessionParams ?? null,
          config: sim.config({
            promptTemplate: REAL_CLI_PROMPT,
            model: SCRIPTED_MODEL,
            extraArgs: scriptedProviderArgs(llm, input.scenario, tag),
            env: { OPENAI_API_KEY: "dummy" },
            ...input.config,
          }),
        });
        const llmRequests = () => llm.requests(tag);
        const execution = adapter.execute(run.ctx);
        if (input.during) await input.during(run, agentId, llmRequests);
        return { result: await execution, run, agentId, workspaceCwd, llmRequests };
      },
      podOf: (agentId) =>
        sim.sim.store.list("pods").items.find((pod) => pod.metadata.annotations?.["paperclip.io/agent-id"] === agentId)?.metadata.name ?? null,
      stop: async () => {
        await sim.stop();
        await llm.stop();
      },
    };
  });
  afterAll(async () => {
    stopReapers();
    await stopSharedWatches();
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error("the real-codex cluster is not started: use it inside a test");
    return cluster;
  };
}
