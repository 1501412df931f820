/**
 * The main job, end to end on an embedded simulated cluster: one claude_k8s run and one opencode_k8s
 * run through the adapters' real execute(). By default each run's Job executes the REAL agent CLI
 * (the devDependencies @anthropic-ai/claude-code and opencode-ai) in its pod, talking to a scripted
 * LLM on 127.0.0.1; its lines stream here as the pod writes them.
 *
 *   npm run demo              # the real CLIs against the scripted LLM
 *   npm run demo -- --replay  # a stand-in CLI replaying recorded real transcripts (no CLI binaries needed)
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { AdapterExecutionContext, AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { claudeAgent, createServerAdapter as createClaudeAdapter } from "paperclip-adapter-claude-k8s";
import { createServerAdapter as createOpenCodeAdapter, opencodeAgent } from "paperclip-adapter-opencode-k8s";
import type { AgentDefinition } from "paperclip-k8s-runtime";
import { stopReapers, stopSharedWatches } from "paperclip-k8s-runtime";
import { recordedRun, startConformanceCluster, startRealCliCluster, type RealCli } from "paperclip-k8s-runtime/testing";

const colors = { dim: "\x1b[2m", bold: "\x1b[1m", cyan: "\x1b[36m", yellow: "\x1b[33m", reset: "\x1b[0m" };

/** Prints each log chunk as it arrives: runtime lines in cyan, stderr in yellow, the transcript dimmed. */
const printLog: AdapterExecutionContext["onLog"] = async (stream, chunk) => {
  const text = chunk.length > 220 ? `${chunk.slice(0, 217)}...\n` : chunk;
  const color = chunk.startsWith("[paperclip]") ? colors.cyan : stream === "stderr" ? colors.yellow : colors.dim;
  process.stdout.write(`${color}${stream === "stderr" ? "stderr " : ""}${text}${colors.reset}`);
};

/** One run of the stand-in CLI replaying the recorded `happy` transcript of `cli`. */
async function replayRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, cli: RealCli): Promise<AdapterExecutionResult> {
  const cluster = await startConformanceCluster(agent);
  try {
    const agentId = randomUUID();
    const workspace = await cluster.workspace(agentId);
    const run = recordedRun({
      adapterType: agent.type,
      agentId,
      taskId: "DEMO-1",
      workspaceCwd: workspace,
      config: cluster.config({ promptTemplate: `FAKE_AGENT_SCENARIO ${JSON.stringify({ transcript: `${cli}/happy`, lineDelayMs: 120 })}` }),
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
async function realRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, cli: RealCli): Promise<AdapterExecutionResult> {
  const cluster = await startRealCliCluster(agent, adapter, cli);
  try {
    const { result, llmRequests } = await cluster.run({ scenario: "happy", onLog: printLog });
    const replies = llmRequests().flatMap((request) => (request.reply === null ? [] : [request.reply]));
    console.log(`${colors.dim}scripted LLM answered: ${replies.join(", ")}${colors.reset}`);
    return result;
  } finally {
    await cluster.stop();
  }
}

async function demoRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, cli: RealCli, replay: boolean): Promise<AdapterExecutionResult> {
  const what = replay ? "a recorded transcript replayed" : `the real ${cli} CLI against a scripted LLM`;
  console.log(`\n${colors.bold}== ${agent.type}: a simulated cluster and one run of ${what} ==${colors.reset}`);
  const result = await (replay ? replayRun : realRun)(agent, adapter, cli);
  console.log(`${colors.bold}-- ${agent.type} result --${colors.reset}`);
  console.log(JSON.stringify(result, null, 2));
  return result;
}

const { values: flags } = parseArgs({ options: { replay: { type: "boolean", default: false } } });
const results = [
  await demoRun(claudeAgent, createClaudeAdapter(), "claude", flags.replay),
  await demoRun(opencodeAgent, createOpenCodeAdapter(), "opencode", flags.replay),
];
stopReapers();
await stopSharedWatches();
const failed = results.filter((result) => result.exitCode !== 0 || result.errorCode);
console.log(`\n${colors.bold}${results.length - failed.length} of ${results.length} runs succeeded.${colors.reset}`);
process.exitCode = failed.length === 0 ? 0 : 1;
