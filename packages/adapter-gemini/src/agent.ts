import type { AgentDefinition } from "paperclip-k8s-runtime";
import { createSessionCodec } from "paperclip-k8s-runtime/agent-kit";
import { buildGeminiCommand } from "./command.ts";
import { geminiConfigFields, geminiConfigurationDoc } from "./config-fields.ts";
import { interpretGemini } from "./interpret.ts";
import { geminiModels } from "./models.ts";
import { createGeminiParser, type GeminiParsed } from "./parse-output.ts";

/** Gemini CLI as a Paperclip agent; `createK8sAdapter(geminiAgent)` makes the adapter. */
export const geminiAgent: AgentDefinition<GeminiParsed> = {
  type: "gemini_k8s",
  label: "Gemini CLI (Kubernetes)",
  containerName: "gemini",
  defaultImageHint: "ghcr.io/<org>/gemini:latest",
  capabilities: { reportsTurnLimit: true, reportsCost: false },
  // Gemini CLI finds skills only under its home (gemini_local links them into ~/.gemini/skills).
  skillsDelivery: { kind: "home", homePath: ".gemini/skills" },
  // gemini_local prepends the instructions to the prompt; the CLI has no flag for an instructions file.
  instructionsDelivery: "prompt-prefix",
  buildCommand: buildGeminiCommand,
  createParser: createGeminiParser,
  interpret: (parsed, outcome, facts) => interpretGemini(parsed, outcome, facts),
  models: geminiModels,
  configFields: geminiConfigFields,
  configurationDoc: geminiConfigurationDoc,
  // gemini_local also stores the id as `sessionID`.
  sessionCodec: createSessionCodec({ sessionIdAliases: ["sessionID"] }),
};
