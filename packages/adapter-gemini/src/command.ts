import type { AgentCommand, AgentCommandInput } from "paperclip-k8s-runtime";
import { GEMINI_AUTO_MODEL } from "./models.ts";

/**
 * The Gemini CLI invocation for one run. The runtime feeds the prompt file on stdin, which the CLI reads as the
 * prompt when stdin is not a terminal: no `--prompt` argument, so the prompt never shows in the pod spec or `ps`.
 */
export function buildGeminiCommand(input: AgentCommandInput): AgentCommand {
  const sandbox = readSandbox(input.config);
  const argv = ["gemini", "--output-format", "stream-json"];
  const notes: string[] = [];
  if (input.resumeSessionId !== null) {
    argv.push("--resume", input.resumeSessionId);
    notes.push(`Resuming Gemini session ${input.resumeSessionId}.`);
  }
  if (input.model !== null && input.model !== GEMINI_AUTO_MODEL) argv.push("--model", input.model);
  // Nobody can approve a tool call in a Job (gemini_local always runs yolo too).
  argv.push("--approval-mode", "yolo", sandbox ? "--sandbox" : "--sandbox=none", ...input.extraArgs);
  const env = {
    // The CLI re-spawns itself to size its heap from the host's memory, not the pod's limit; one process is enough.
    GEMINI_CLI_NO_RELAUNCH: "true",
    // An untrusted folder silently turns yolo back into "default" approval, which denies every tool headless.
    GEMINI_CLI_TRUST_WORKSPACE: "true",
    NO_BROWSER: "1",
  };
  return { argv, env, notes };
}

function readSandbox(config: Readonly<Record<string, unknown>>): boolean {
  const value = config.sandbox;
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new Error(`sandbox must be true or false, got ${JSON.stringify(value)}`);
  return value;
}
