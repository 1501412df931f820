import type { AgentCommand, AgentCommandInput } from "paperclip-k8s-runtime";
import { readText } from "paperclip-k8s-runtime/agent-kit";

/** The run-directory file holding the OpenCode config this run adds (passed as `OPENCODE_CONFIG`). */
export const RUNTIME_CONFIG_FILE = "opencode-config.json";

/** `provider/model` split at the first slash, or an error naming the bad value. */
export function splitOpenCodeModel(model: string): { provider: string; modelId: string } {
  const slash = model.indexOf("/");
  if (slash <= 0 || slash === model.length - 1) {
    throw new Error(`model must be "provider/model" (for example anthropic/claude-sonnet-4-5), got ${JSON.stringify(model)}`);
  }
  return { provider: model.slice(0, slash), modelId: model.slice(slash + 1) };
}

/** The OpenCode invocation for one run; the runtime feeds the prompt file on stdin. */
export function buildOpenCodeCommand(input: AgentCommandInput): AgentCommand {
  const { config } = input;
  const variant = readText(config, "variant");

  const argv = ["opencode", "run", "--format", "json"];
  const env: Record<string, string> = {
    // Keeps OpenCode from reading or writing opencode.json in the agent's working directory.
    OPENCODE_DISABLE_PROJECT_CONFIG: "true",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
  };
  const notes: string[] = [];

  if (input.resumeSessionId !== null) {
    argv.push("--session", input.resumeSessionId);
    notes.push(`Resuming OpenCode session ${input.resumeSessionId}.`);
  }
  if (input.model !== null) argv.push("--model", input.model);
  if (variant !== null) argv.push("--variant", variant);
  argv.push(...input.extraArgs);

  const runtimeConfig = buildRuntimeConfig(input, input.dangerouslySkipPermissions);
  if (runtimeConfig === null) return { argv, env, notes };
  env.OPENCODE_CONFIG = `${input.runDir}/${RUNTIME_CONFIG_FILE}`;
  notes.push(`Run config ${RUNTIME_CONFIG_FILE}: ${Object.keys(runtimeConfig).join(", ")}.`);
  return { argv, env, notes, runFiles: { [RUNTIME_CONFIG_FILE]: `${JSON.stringify(runtimeConfig, null, 2)}\n` } };
}

/**
 * OpenCode config for this run, merged by OpenCode over the user's global config (and under any
 * `OPENCODE_CONFIG_CONTENT` the operator passes), or null when the run needs none.
 */
function buildRuntimeConfig(input: AgentCommandInput, skipPermissions: boolean): Record<string, unknown> | null {
  const runtimeConfig: Record<string, unknown> = {};
  if (skipPermissions) {
    // What opencode_local injects so headless runs do not stall on approval prompts.
    runtimeConfig.permission = { external_directory: "allow" };
  }
  if (input.model !== null) {
    // OpenCode resolves --model only for ids in its provider's models map; an empty entry merges with
    // the catalog, so gateway and not-yet-catalogued ids work too (as in opencode_local).
    const { provider, modelId } = splitOpenCodeModel(input.model);
    runtimeConfig.provider = { [provider]: { models: { [modelId]: {} } } };
  }
  if (input.instructionsFile !== null) runtimeConfig.instructions = [input.instructionsFile];
  if (input.skillsDir !== null) runtimeConfig.skills = { paths: [input.skillsDir] };
  return Object.keys(runtimeConfig).length === 0 ? null : runtimeConfig;
}
