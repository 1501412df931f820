import type { AgentDefinition } from "paperclip-k8s-runtime";
import { createSessionCodec } from "paperclip-k8s-runtime/agent-kit";
import { buildClaudeCommand } from "./command.ts";
import { claudeConfigFields, claudeConfigurationDoc } from "./config-fields.ts";
import { interpretClaude } from "./interpret.ts";
import { claudeModels } from "./models.ts";
import { createClaudeParser, type ClaudeParsed } from "./parse-output.ts";

/** Claude Code as a Paperclip agent; `createK8sAdapter(claudeAgent)` makes the adapter. */
export const claudeAgent: AgentDefinition<ClaudeParsed> = {
  type: "claude_k8s",
  label: "Claude Code (Kubernetes)",
  containerName: "claude",
  defaultImageHint: "ghcr.io/<org>/claude-code:latest",
  // Claude Code finds skills in <dir>/.claude/skills of a directory given with --add-dir.
  skillsDelivery: { kind: "claude-project-dir" },
  instructionsDelivery: "file",
  capabilities: { reportsTurnLimit: true, reportsCost: true },
  buildCommand: buildClaudeCommand,
  createParser: createClaudeParser,
  interpret: (parsed, outcome, facts) => interpretClaude(parsed, outcome, facts),
  models: claudeModels,
  configFields: claudeConfigFields,
  configurationDoc: claudeConfigurationDoc,
  sessionCodec: createSessionCodec(),
};
