import type { AdapterConfigSchema } from "@paperclipai/adapter-utils";
import { extraArgsField, promptTemplateFields } from "paperclip-k8s-runtime/agent-kit";
import { RUNTIME_CONFIG_FILE } from "./command.ts";
import { openCodeModels } from "./models.ts";

/** The OpenCode-specific fields of the agent form; the runtime adds the Kubernetes ones. */
export const openCodeConfigFields: AdapterConfigSchema["fields"] = [
  {
    key: "model",
    label: "Model",
    type: "combobox",
    options: openCodeModels.map((model) => ({ value: model.id, label: model.label })),
    hint: "provider/model, passed as --model. Blank uses OpenCode's configured default.",
  },
  {
    key: "variant",
    label: "Variant",
    type: "text",
    hint: "Provider-specific reasoning variant passed as --variant (for example minimal, low, medium, high, xhigh, max).",
  },
  {
    key: "dangerouslySkipPermissions",
    label: "Skip permission prompts",
    type: "toggle",
    default: true,
    hint: "Allows access outside the working directory without approval prompts (permission.external_directory=allow).",
  },
  extraArgsField,
  {
    key: "instructionsFilePath",
    label: "Instructions file",
    type: "text",
    hint: "Absolute path of a markdown file OpenCode adds to its instructions on every run.",
  },
  ...promptTemplateFields,
];

export const openCodeConfigurationDoc = `# opencode_k8s agent configuration

Runs OpenCode (\`opencode run --format json\`) as a Kubernetes Job. The prompt goes to the CLI on stdin.
OpenCode keys (the same names and meaning as Paperclip's \`opencode_local\`):

- \`model\` (string, optional): \`provider/model\`, passed as \`--model\` and registered in the run's OpenCode
  config so ids the models catalogue lacks (gateway models) resolve. Blank: OpenCode's default.
- \`variant\` (string, optional): provider-specific reasoning variant, passed as \`--variant\`.
- \`dangerouslySkipPermissions\` (boolean, default true): allows \`external_directory\` access without
  approval prompts, which nobody can answer in a Job.
- \`extraArgs\` (list of strings, or one whitespace-separated string, optional): appended last, each as
  one argument; nothing is interpreted by a shell.
- \`instructionsFilePath\` (absolute path, optional): markdown instructions, listed in the run's OpenCode
  config under \`instructions\`, so OpenCode includes them on every run.
- \`promptTemplate\` / \`bootstrapPromptTemplate\` (string, optional): the run prompt, and the part sent
  only when a session starts fresh.

The run's own OpenCode settings (permissions, model registration, instructions, the run's skills
directory under \`skills.paths\`) are written to \`${RUNTIME_CONFIG_FILE}\` in the run directory and passed as
\`OPENCODE_CONFIG\`. OpenCode merges it over the global config in HOME, and an \`OPENCODE_CONFIG_CONTENT\`
the operator passes (for example a custom provider with \`options.baseURL\`) is merged over both. The
CLI runs with \`OPENCODE_DISABLE_PROJECT_CONFIG=true\` (no opencode.json read from or written to the
working directory) and \`OPENCODE_DISABLE_AUTOUPDATE=1\`. Provider credentials (\`OPENAI_*\`,
\`ANTHROPIC_*\`, \`OPENCODE_*\`, …) reach the pod through the runtime's env allowlist or the \`env\` key.

Resuming needs the same HOME as the run that made the session: keep HOME on the shared volume. An
unknown session (\`Session not found\`) fails the run with \`session_unavailable\` and clears the session.
An \`error\` event fails the run with \`llm_api_error\` (HTTP 429: provider quota; 5xx or retryable:
transient upstream, with the provider's \`retry-after\` when sent); with HTTP 401/403 it fails with
\`llm_auth_error\`, not retried. An empty reply fails with \`llm_api_error\`. A CLI that exits with an
error before printing anything (a rejected flag, HOME not writable) fails with \`agent_start_failed\`
and its own first stderr line. Output that stops before OpenCode's final step (the pod was killed, OOM, …) fails
with \`opencode_truncated\`. OpenCode's step limit (\`agent.<name>.steps\`) leaves no marker in the output:
such runs end normally with the model's last reply.
`;
