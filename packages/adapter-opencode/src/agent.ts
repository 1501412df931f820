import type { AgentDefinition } from "paperclip-k8s-runtime";
import { createSessionCodec } from "paperclip-k8s-runtime/agent-kit";
import { buildOpenCodeCommand } from "./command.ts";
import { openCodeConfigFields, openCodeConfigurationDoc } from "./config-fields.ts";
import { interpretOpenCode } from "./interpret.ts";
import { openCodeModels } from "./models.ts";
import { createOpenCodeParser, type OpenCodeParsed } from "./parse-output.ts";

/** OpenCode as a Paperclip agent; `createK8sAdapter(opencodeAgent)` makes the adapter. */
export const opencodeAgent: AgentDefinition<OpenCodeParsed> = {
  type: "opencode_k8s",
  label: "OpenCode (Kubernetes)",
  containerName: "opencode",
  defaultImageHint: "ghcr.io/<org>/opencode:latest",
  // OpenCode reads <name>/SKILL.md from every directory in its config's skills.paths.
  skillsDelivery: { kind: "directory" },
  instructionsDelivery: "file",
  capabilities: { reportsTurnLimit: false, reportsCost: true },
  buildCommand: buildOpenCodeCommand,
  createParser: createOpenCodeParser,
  interpret: (parsed, outcome, facts) => interpretOpenCode(parsed, outcome, facts),
  models: openCodeModels,
  configFields: openCodeConfigFields,
  configurationDoc: openCodeConfigurationDoc,
  // opencode_local also stores the id as `sessionID`, OpenCode's own spelling.
  sessionCodec: createSessionCodec({ sessionIdAliases: ["sessionID"] }),
};
