import type { AdapterConfigSchema } from "@paperclipai/adapter-utils";
import { extraArgsField, promptTemplateFields } from "paperclip-k8s-runtime/agent-kit";
import { CLAUDE_EFFORT_LEVELS } from "./command.ts";
import { claudeModels } from "./models.ts";

/** The Claude-specific fields of the agent form; the runtime adds the Kubernetes ones. */
export const claudeConfigFields: AdapterConfigSchema["fields"] = [
  {
    key: "model",
    label: "Model",
    type: "combobox",
    options: claudeModels.map((model) => ({ value: model.id, label: model.label })),
    hint: "Claude model id passed as --model. Blank uses the CLI's default.",
  },
  {
    key: "effort",
    label: "Reasoning effort",
    type: "select",
    options: CLAUDE_EFFORT_LEVELS.map((level) => ({ value: level, label: level })),
    hint: "Passed as --effort. Blank uses the model's default.",
  },
  {
    key: "maxTurnsPerRun",
    label: "Max turns per run",
    type: "number",
    hint: "Passed as --max-turns. A run that hits it fails with max_turns_exhausted and starts a fresh session next time. 0 or blank: no limit.",
  },
  {
    key: "dangerouslySkipPermissions",
    label: "Skip permission prompts",
    type: "toggle",
    default: true,
    hint: "Passes --dangerously-skip-permissions (and IS_SANDBOX=1): a headless run cannot answer prompts, and the pod is the sandbox.",
  },
  extraArgsField,
  {
    key: "instructionsFilePath",
    label: "Instructions file",
    type: "text",
    hint: "Absolute path of a markdown file given to fresh sessions via --append-system-prompt-file.",
  },
  ...promptTemplateFields,
];

export const claudeConfigurationDoc = `# claude_k8s agent configuration

Runs Claude Code (\`claude -p --output-format stream-json --verbose\`) as a Kubernetes Job. The prompt
goes to the CLI on stdin. Claude keys (the same names and meaning as Paperclip's \`claude_local\`):

- \`model\` (string, optional): Claude model id, passed as \`--model\`. Blank: the CLI's default.
- \`effort\` (string, optional): one of ${CLAUDE_EFFORT_LEVELS.join(", ")}; passed as \`--effort\`.
- \`maxTurnsPerRun\` (positive integer, optional): passed as \`--max-turns\`. A run that reaches it fails
  with error code \`max_turns_exhausted\` and the session is cleared, so the next run starts fresh.
- \`dangerouslySkipPermissions\` (boolean, default true): passes \`--dangerously-skip-permissions\` and sets
  \`IS_SANDBOX=1\` (the CLI refuses the flag as root otherwise). Without it, tool calls that need
  approval are denied, because nobody can answer a prompt in a Job.
- \`extraArgs\` (list of strings, or one whitespace-separated string, optional): appended last, each as
  one argument; nothing is interpreted by a shell.
- \`instructionsFilePath\` (absolute path, optional): markdown instructions, given to fresh sessions with
  \`--append-system-prompt-file\` (a resumed session already has them).
- \`promptTemplate\` / \`bootstrapPromptTemplate\` (string, optional): the run prompt, and the part sent
  only when a session starts fresh.

The CLI runs with \`CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1\` and \`DISABLE_AUTOUPDATER=1\`, so it calls
nothing but the model API. Credentials (\`ANTHROPIC_API_KEY\`, \`CLAUDE_CODE_OAUTH_TOKEN\`, Bedrock's
\`AWS_*\` with \`CLAUDE_CODE_USE_BEDROCK=1\`, \`ANTHROPIC_BASE_URL\` for a gateway) reach the pod through the
runtime's env allowlist or the \`env\` key.

Resuming needs the same HOME and working directory as the run that made the session: keep HOME on
the shared volume. An unknown session (\`No conversation found\`) fails the run with
\`session_unavailable\` and clears the session. An API error after the CLI's own retries fails with
\`llm_api_error\` (HTTP 5xx: retried as a transient upstream error; 429 and usage limits: provider
quota, with the retry time when Claude states one). A refused credential (HTTP 401/403, invalid API key)
fails with \`llm_auth_error\` and is not retried. An empty reply fails with \`llm_api_error\`. A CLI that
exits with an error before printing anything fails with \`agent_start_failed\` and its own first stderr
line. Output that stops before Claude's \`result\` line (the pod was killed, OOM, …) fails with
\`claude_truncated\`.
`;
