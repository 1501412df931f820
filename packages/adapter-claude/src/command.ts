import type { AgentCommand, AgentCommandInput } from "paperclip-k8s-runtime";
import { readChoice, readPositiveInteger } from "paperclip-k8s-runtime/agent-kit";

/** Values `claude --effort` accepts. */
export const CLAUDE_EFFORT_LEVELS = ["low", "medium", "high", "xhigh", "max"] as const;

/** The Claude Code invocation for one run; the runtime feeds the prompt file on stdin. */
export function buildClaudeCommand(input: AgentCommandInput): AgentCommand {
  const { config } = input;
  const effort = readChoice(config, "effort", CLAUDE_EFFORT_LEVELS);
  const maxTurns = readPositiveInteger(config, "maxTurnsPerRun");

  const argv = ["claude", "-p", "--output-format", "stream-json", "--verbose"];
  const env: Record<string, string> = {
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  };
  const notes: string[] = [];

  if (input.resumeSessionId !== null) {
    argv.push("--resume", input.resumeSessionId);
    notes.push(`Resuming Claude session ${input.resumeSessionId}.`);
  }
  if (input.dangerouslySkipPermissions) {
    argv.push("--dangerously-skip-permissions");
    // The pod is the sandbox; without this the CLI refuses the flag when it runs as root.
    env.IS_SANDBOX = "1";
  }
  if (input.model !== null) argv.push("--model", input.model);
  if (effort !== null) argv.push("--effort", effort);
  if (maxTurns !== null) argv.push("--max-turns", String(maxTurns));
  // A resumed session already holds the instructions; sending them again only costs tokens.
  if (input.instructionsFile !== null && input.resumeSessionId === null) {
    argv.push("--append-system-prompt-file", input.instructionsFile);
    notes.push(`Agent instructions from ${input.instructionsFile}.`);
  }
  if (input.skillsDir !== null) argv.push("--add-dir", input.skillsDir);
  argv.push(...input.extraArgs);

  return { argv, env, notes };
}
