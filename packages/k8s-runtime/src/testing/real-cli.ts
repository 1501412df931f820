/**
 * Test support: the real agent CLIs (installed as devDependencies) as the image of simulated agent pods, talking
 * to the scripted LLM server. What differs between CLIs comes from the agent package's `RealCliSpec`.
 */
import { randomUUID } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { AdapterExecutionContext, AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { afterAll, beforeAll, expect } from "vitest";
import type { AgentDefinition } from "../agent.ts";
import { isJsonObject } from "../agent-kit/json-fields.ts";
import { ANNOTATION_AGENT_ID } from "../labels.ts";
import { stopReapers } from "../reaper.ts";
import { stopSharedWatches } from "../shared-watch.ts";
import type { CliFixture } from "./agent-cli-fixtures.ts";
import { verdictMismatches, type FixtureVerdict } from "./fixture-verdict.ts";
import type { LlmScenario } from "./llm-server/scenario.ts";
import { startScriptedLlmServer, type LlmRequestRecord, type ScriptedLlmServer } from "./llm-server/server.ts";
import { buildRealCliImage } from "./real-cli-image.ts";
import type { RealCliSpec } from "./real-cli-spec.ts";
import { recordedRun, type RecordedRun } from "./run-context.ts";
import { startConformanceCluster, type ConformanceCluster } from "./sim-harness.ts";

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
  /** Adapter config on top of the spec's and the cluster's; its `env` is added to the one pointing at the LLM. */
  config?: Record<string, unknown>;
  /** CLI-specific settings for the spec's `env` (e.g. OpenCode config to merge into the generated one). */
  cliSettings?: Record<string, unknown>;
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
  spec: RealCliSpec;
  llm: ScriptedLlmServer;
  /** One run of the real CLI through the adapter's `execute()`, pointed at the scripted LLM. */
  run(input: RealCliRunInput): Promise<RealCliRun>;
  /** The name of the agent's pod, or null while there is none. */
  podOf(agentId: string): string | null;
}

/** A simulated cluster whose agent image is the spec's real CLI, plus a scripted LLM server; `stop()` ends both. */
export async function startRealCliCluster(spec: RealCliSpec, agent: AgentDefinition<unknown>, adapter: ServerAdapterModule): Promise<RealCliCluster> {
  const llm = await startScriptedLlmServer();
  let cluster: ConformanceCluster;
  try {
    cluster = await startConformanceCluster(agent, { agentImage: await buildRealCliImage(spec) });
  } catch (error) {
    await llm.stop();
    throw error;
  }
  return {
    ...cluster,
    spec,
    llm,
    run: async (input) => {
      const agentId = input.agentId ?? randomUUID();
      const workspaceCwd = input.workspaceCwd ?? (await cluster.workspace(agentId));
      const tag = randomUUID().slice(0, 8);
      const baseUrl = llm.openRun({ scenario: input.scenario, tag, cli: { shellTool: spec.shellTool, stepLimitNotice: spec.stepLimitNotice } });
      const cliRun = { baseUrl, settings: input.cliSettings ?? {} };
      const env = spec.env(cliRun);
      const run = recordedRun({
        agentId,
        adapterType: agent.type,
        workspaceCwd,
        taskId: `task-${agentId}`,
        sessionParams: input.sessionParams ?? null,
        config: cluster.config({
          promptTemplate: REAL_CLI_PROMPT,
          ...(typeof spec.config === "function" ? spec.config(cliRun) : spec.config),
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
export function useRealCliCluster(spec: RealCliSpec, agent: AgentDefinition<unknown>, adapter: ServerAdapterModule): () => RealCliCluster {
  let cluster: RealCliCluster | undefined;
  beforeAll(async () => {
    cluster = await startRealCliCluster(spec, agent, adapter);
  });
  afterAll(async () => {
    stopReapers();
    await stopSharedWatches();
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined) throw new Error(`the real-${spec.cli} cluster is not started: use it inside a test`);
    return cluster;
  };
}

/** Files under a directory, recursively, relative to it (e.g. to find a CLI's session files in the agent's HOME). */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

/** What the agent printed (without the runtime's own `[paperclip]` lines). */
function agentText(chunks: readonly string[]): string {
  return chunks.filter((chunk) => !chunk.startsWith("[paperclip]")).join("");
}

/** A real run as a fixture (what the CLI printed, how its container ended, what it was asked), for a verdict oracle. */
export function realRunFixture(cli: string, scenario: string, { result, run }: RealCliRun): CliFixture {
  const stdout = agentText(run.stdout);
  const stderr = agentText(run.stderr);
  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  return {
    cli,
    scenario,
    stdout,
    stderr,
    argv: [],
    meta: {},
    outcome: {
      exitCode,
      signal,
      reason: null,
      description: `container exited ${exitCode ?? "?"}${signal ? ` (${signal})` : ""}`,
      stderrTail: stderr,
      stdoutLines: stdout.split("\n").filter((line) => line.trim() !== "").length,
    },
    // What Paperclip asked for; oracles read only the output and the exit.
    facts: {
      model: typeof run.ctx.config.model === "string" ? run.ctx.config.model : null,
      resumeSessionId: typeof run.ctx.runtime.sessionParams?.sessionId === "string" ? run.ctx.runtime.sessionParams.sessionId : null,
    },
  };
}

/**
 * Our result must agree with the verdict the agent's oracle (Paperclip's own parser of the CLI, plus the shared
 * policies; the package's `verdict-oracle.ts`) gives the same run: success or error code and family, session,
 * usage, cost and summary.
 */
export function expectAgreesWithOracle(real: RealCliRun, oracle: (fixture: CliFixture) => FixtureVerdict, cli = "real", scenario = "run"): void {
  expect(verdictMismatches(real.result, oracle(realRunFixture(cli, scenario, real)))).toEqual([]);
}
