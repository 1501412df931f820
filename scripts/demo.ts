/**
 * The main job, end to end on an embedded simulated cluster: one run of each adapter (claude_k8s,
 * opencode_k8s, codex_k8s, gemini_k8s) through its real execute(). By default each run's Job executes the
 * REAL agent CLI (the adapters' devDependencies @anthropic-ai/claude-code, opencode-ai, @openai/codex,
 * @google/gemini-cli) in its pod, talking to a scripted LLM on 127.0.0.1; its lines stream here as the pod
 * writes them.
 *
 *   npm run demo              # the real CLIs against the scripted LLM
 *   npm run demo -- --replay  # a stand-in CLI replaying recorded real transcripts (no CLI binaries needed)
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { AdapterExecutionContext, AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { claudeAgent, createServerAdapter as createClaudeAdapter } from "paperclip-adapter-claude-k8s";
import { codexAgent, createServerAdapter as createCodexAdapter } from "paperclip-adapter-codex-k8s";
import { createServerAdapter as createGeminiAdapter, geminiAgent } from "paperclip-adapter-gemini-k8s";
import { createServerAdapter as createOpenCodeAdapter, opencodeAgent } from "paperclip-adapter-opencode-k8s";
import type { AgentDefinition } from "paperclip-k8s-runtime";
import { stopReapers, stopSharedWatches } from "paperclip-k8s-runtime";
import { recordedRun, startConformanceCluster, startRealCliCluster, type RealCliSpec } from "paperclip-k8s-runtime/testing";
// Each adapter's real-CLI spec (test support in its package: how its CLI runs in a pod against the scripted LLM).
import { claudeRealCliSpec } from "../packages/adapter-claude/src/real-cli-spec.ts";
import { codexRealCliSpec } from "../packages/adapter-codex/src/real-cli-spec.ts";
import { geminiRealCliSpec } from "../packages/adapter-gemini/src/real-cli-spec.ts";
import { openCodeRealCliSpec } from "../packages/adapter-opencode/src/real-cli-spec.ts";

const colors = { dim: "\x1b[2m", bold: "\x1b[1m", cyan: "\x1b[36m", yellow: "\x1b[33m", reset: "\x1b[0m" };

/** Prints each log chunk as it arrives: runtime lines in cyan, stderr in yellow, the transcript dimmed. */
const printLog: AdapterExecutionContext["onLog"] = async (stream, chunk) => {
  const text = chunk.length > 220 ? `${chunk.slice(0, 217)}...\n` : chunk;
  const color = chunk.startsWith("[paperclip]") ? colors.cyan : stream === "stderr" ? colors.yellow : colors.dim;
  process.stdout.write(`${color}${stream === "stderr" ? "stderr " : ""}${text}${colors.reset}`);
};

/** One run of the stand-in CLI replaying the recorded `happy` transcript of `cli`. */
async function replayRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, spec: RealCliSpec): Promise<AdapterExecutionResult> {
  const cluster = await startConformanceCluster(agent);
  try {
    const agentId = randomUUID();
    const workspace = await cluster.workspace(agentId);
    const run = recordedRun({
      adapterType: agent.type,
      agentId,
      taskId: "DEMO-1",
      workspaceCwd: workspace,
      config: cluster.config({ promptTemplate: `FAKE_AGENT_SCENARIO ${JSON.stringify({ transcript: `${spec.cli}/happy`, lineDelayMs: 120 })}` }),
    });
    const record = run.ctx.onLog;
    run.ctx.onLog = async (stream, chunk) => {
      await printLog(stream, chunk);
      await record(stream, chunk);
    };
    return await adapter.execute(run.ctx);
  } finally {
    await cluster.stop();
  }
}

/** One run of the real CLI against the scripted LLM (a shell tool call, then final text). */
async function realRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, spec: RealCliSpec): Promise<AdapterExecutionResult> {
  const cluster = await startRealCliCluster(spec, agent, adapter);
  try {
    const { result, llmRequests } = await cluster.run({ scenario: "happy", onLog: printLog });
    const replies = llmRequests().flatMap((request) => (request.reply === null ? [] : [request.reply]));
    console.log(`${colors.dim}scripted LLM answered: ${replies.join(", ")}${colors.reset}`);
    return result;
  } finally {
    await cluster.stop();
  }
}

async function demoRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, spec: RealCliSpec, replay: boolean): Promise<AdapterExecutionResult> {
  const what = replay ? "a recorded transcript replayed" : `the real ${spec.cli} CLI against a scripted LLM`;
  console.log(`\n${colors.bold}== ${agent.type}: a simulated cluster and one run of ${what} ==${colors.reset}`);
  const result = await (replay ? replayRun : realRun)(agent, adapter, spec);
  console.log(`${colors.bold}-- ${agent.type} result --${colors.reset}`);
  console.log(JSON.stringify(result, null, 2));
  return result;
}

const { values: flags } = parseArgs({ options: { replay: { type: "boolean", default: false } } });
const results = [
  await demoRun(claudeAgent, createClaudeAdapter(), claudeRealCliSpec, flags.replay),
  await demoRun(opencodeAgent, createOpenCodeAdapter(), openCodeRealCliSpec, flags.replay),
  await demoRun(codexAgent, createCodexAdapter(), codexRealCliSpec, flags.replay),
  await demoRun(geminiAgent, createGeminiAdapter(), geminiRealCliSpec, flags.replay),
];
stopReapers();
await stopSharedWatches();
const failed = results.filter((result) => result.exitCode !== 0 || result.errorCode);
console.log(`\n${colors.bold}${results.length - failed.length} of ${results.length} runs succeeded.${colors.reset}`);
process.exitCode = failed.length === 0 ? 0 : 1;
