import type { AgentDefinition } from "paperclip-k8s-runtime";
import { createSessionCodec } from "paperclip-k8s-runtime/agent-kit";
import { buildCodexCommand } from "./command.ts";
import { codexConfigFields, codexConfigurationDoc } from "./config-fields.ts";
import { interpretCodex } from "./interpret.ts";
import { codexModels } from "./models.ts";
import { createCodexParser, type CodexParsed } from "./parse-output.ts";

/** OpenAI Codex (`codex exec --json`) as a Paperclip agent; `createK8sAdapter(codexAgent)` makes the adapter. */
export const codexAgent: AgentDefinition<CodexParsed> = {
  type: "codex_k8s",
  label: "Codex (Kubernetes)",
  containerName: "codex",
  defaultImageHint: "ghcr.io/<org>/codex:latest",
  capabilities: { reportsTurnLimit: false, reportsCost: false },
  // Codex reads skills only from $CODEX_HOME/skills (CODEX_HOME is ~/.codex unless the operator moves it) and has no
  // instructions flag: codex_local prepends the instructions to the prompt.
  skillsDelivery: { kind: "home", homePath: ".codex/skills" },
  instructionsDelivery: "prompt-prefix",
  buildCommand: buildCodexCommand,
  createParser: createCodexParser,
  interpret: (parsed, outcome, facts) => interpretCodex(parsed, outcome, facts),
  models: codexModels,
  configFields: codexConfigFields,
  configurationDoc: codexConfigurationDoc,
  sessionCodec: createSessionCodec(),
};
