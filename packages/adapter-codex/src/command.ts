import type { AgentCommand, AgentCommandInput } from "paperclip-k8s-runtime";
import { readFlag, readText } from "paperclip-k8s-runtime/agent-kit";
import { normalizeCodexModel, supportsFastMode } from "./models.ts";

const SKIP_GIT_REPO_CHECK = "--skip-git-repo-check";
/** extraArgs that choose Codex's sandbox themselves; the adapter then adds no sandbox settings of its own. */
const CHOOSES_SANDBOX = /^(?:--sandbox(?:=|$)|-s$|--profile(?:=|$)|-p$|--full-auto$|--yolo$|--dangerously-bypass-approvals-and-sandbox$)|^(?:sandbox_mode|profile)\s*=/;

/** The first of `keys` that is set, read as a flag. */
function firstFlag(config: AgentCommandInput["config"], keys: string[]): boolean | null {
  for (const key of keys) {
    const value = readFlag(config, key);
    if (value !== null) return value;
  }
  return null;
}

/**
 * `codex exec --json … -` (or `… resume <id> -`: resume is a trailing subcommand, so everything else comes before
 * it); the runtime feeds the prompt on stdin. Flags and their order are codex_local's.
 */
export function buildCodexCommand(input: AgentCommandInput): AgentCommand {
  const { config } = input;
  const bypass = firstFlag(config, ["dangerouslyBypassApprovalsAndSandbox", "dangerouslyBypassSandbox"]) ?? input.dangerouslySkipPermissions;
  const effort = readText(config, "modelReasoningEffort") ?? readText(config, "reasoningEffort");
  const model = input.model === null ? null : normalizeCodexModel(input.model);
  const notes: string[] = [];

  const argv = ["codex"];
  if (readFlag(config, "search") === true) argv.push("--search");
  argv.push("exec", "--json");
  if (!bypass) {
    if (!input.extraArgs.some((arg) => CHOOSES_SANDBOX.test(arg))) {
      argv.push("-c", 'sandbox_mode="workspace-write"', "-c", "sandbox_workspace_write.network_access=true");
    }
    // Outside the bypass Codex refuses a working directory that is not a trusted git repository; nobody can trust one in a Job.
    if (!input.extraArgs.includes(SKIP_GIT_REPO_CHECK)) argv.push(SKIP_GIT_REPO_CHECK);
  } else {
    argv.push("--dangerously-bypass-approvals-and-sandbox");
  }
  if (model !== null) argv.push("--model", model);
  if (effort !== null) argv.push("-c", `model_reasoning_effort=${JSON.stringify(effort)}`);
  if (readFlag(config, "fastMode") === true) {
    if (supportsFastMode(model)) argv.push("-c", 'service_tier="fast"', "-c", "features.fast_mode=true");
    else notes.push(`Fast mode is not offered for model ${model}; ignored.`);
  }
  argv.push(...input.extraArgs);
  if (input.resumeSessionId !== null) {
    // A stored id is agent output: one starting with "-" would be read as a flag (`--last` resumes another thread).
    if (input.resumeSessionId.startsWith("-")) throw new Error(`session id ${JSON.stringify(input.resumeSessionId)} is not a Codex thread id`);
    argv.push("resume", input.resumeSessionId);
    notes.push(`Resuming Codex thread ${input.resumeSessionId}.`);
  }
  argv.push("-");
  return { argv, env: {}, notes };
}
