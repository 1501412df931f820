/**
 * The main job, end to end on an embedded simulated cluster: one claude_k8s run and one opencode_k8s
 * run through the adapters' real execute(). Each run's Job executes a stand-in agent CLI in its pod
 * that replays a recorded real transcript; its lines stream here as the pod writes them.
 *
 *   npm run demo
 */
import type { AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { claudeAgent, createServerAdapter as createClaudeAdapter } from "paperclip-adapter-claude-k8s";
import { createServerAdapter as createOpenCodeAdapter, opencodeAgent } from "paperclip-adapter-opencode-k8s";
import type { AgentDefinition } from "paperclip-k8s-runtime";
import { stopReapers, stopSharedWatches } from "paperclip-k8s-runtime";
import { recordedRun, startConformanceCluster } from "paperclip-k8s-runtime/testing";

const colors = { dim: "\x1b[2m", bold: "\x1b[1m", cyan: "\x1b[36m", yellow: "\x1b[33m", reset: "\x1b[0m" };

async function demoRun<TParsed>(agent: AgentDefinition<TParsed>, adapter: ServerAdapterModule, cli: string): Promise<AdapterExecutionResult> {
  console.log(`\n${colors.bold}== ${agent.type}: starting a simulated cluster and one run ==${colors.reset}`);
  const cluster = await startConformanceCluster(agent);
  try {
    const workspace = await cluster.workspace("demo");
    const run = recordedRun({
      adapterType: agent.type,
      taskId: "DEMO-1",
      workspaceCwd: workspace,
      config: cluster.config({ promptTemplate: `FAKE_AGENT_SCENARIO ${JSON.stringify({ transcript: `${cli}/happy`, lineDelayMs: 120 })}` }),
    });
    const onLog = run.ctx.onLog;
    run.ctx.onLog = async (stream, chunk) => {
      const text = chunk.length > 220 ? `${chunk.slice(0, 217)}...\n` : chunk;
      const color = chunk.startsWith("[paperclip]") ? colors.cyan : stream === "stderr" ? colors.yellow : colors.dim;
      process.stdout.write(`${color}${stream === "stderr" ? "stderr " : ""}${text}${colors.reset}`);
      await onLog(stream, chunk);
    };
    const result = await adapter.execute(run.ctx);
    console.log(`${colors.bold}-- ${agent.type} result --${colors.reset}`);
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await cluster.stop();
  }
}

const results = [
  await demoRun(claudeAgent, createClaudeAdapter(), "claude"),
  await demoRun(opencodeAgent, createOpenCodeAdapter(), "opencode"),
];
stopReapers();
await stopSharedWatches();
const failed = results.filter((result) => result.exitCode !== 0 || result.errorCode);
console.log(`\n${colors.bold}${results.length - failed.length} of ${results.length} runs succeeded.${colors.reset}`);
process.exitCode = failed.length === 0 ? 0 : 1;
