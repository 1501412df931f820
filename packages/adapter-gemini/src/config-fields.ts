import type { AdapterConfigSchema } from "@paperclipai/adapter-utils";
import { extraArgsField, promptTemplateFields } from "paperclip-k8s-runtime/agent-kit";
import { GEMINI_AUTO_MODEL, geminiModels } from "./models.ts";

/** The Gemini-specific fields of the agent form; the runtime adds the Kubernetes ones. */
export const geminiConfigFields: AdapterConfigSchema["fields"] = [
  {
    key: "model",
    label: "Model",
    type: "combobox",
    default: GEMINI_AUTO_MODEL,
    options: geminiModels.map((model) => ({ value: model.id, label: model.label })),
    hint: "Gemini model id, passed as --model. Auto (or blank) lets Gemini CLI route each request.",
  },
  {
    key: "sandbox",
    label: "Gemini sandbox",
    type: "toggle",
    default: false,
    hint: "Runs tools in Gemini CLI's own sandbox (--sandbox); off passes --sandbox=none. The pod is the sandbox already.",
  },
  extraArgsField,
  {
    key: "instructionsFilePath",
    label: "Instructions file",
    type: "text",
    hint: "Absolute path of a markdown file with the agent's instructions, put in front of the prompt.",
  },
  ...promptTemplateFields,
];

export const geminiConfigurationDoc = `# gemini_k8s agent configuration

Runs Gemini CLI (\`gemini --output-format stream-json --approval-mode yolo\`) as a Kubernetes Job. The prompt goes
to the CLI on stdin. Gemini keys (the same names and meaning as Paperclip's \`gemini_local\` with \`engine: "cli"\`):

- \`model\` (string, default \`auto\`): Gemini model id, passed as \`--model\`; \`auto\` or blank passes none, so
  the CLI routes each request itself.
- \`sandbox\` (boolean, default false): \`--sandbox\` (Gemini CLI's own tool sandbox, which needs a container
  runtime in the image) or \`--sandbox=none\`.
- \`extraArgs\` (list of strings, or one whitespace-separated string, optional): appended last, each as one
  argument; nothing is interpreted by a shell.
- \`instructionsFilePath\` (absolute path, optional): markdown instructions, put in front of the prompt (as
  \`gemini_local\` does; a resumed session that gets only a wake delta does not repeat them).
- \`promptTemplate\` / \`bootstrapPromptTemplate\` (string, optional): the run prompt, and the part sent only when a
  session starts fresh.

\`gemini_local\`'s ACP keys (\`engine\`, \`agentCommand\`, \`mode\`, \`nonInteractivePermissions\`, \`stateDir\`,
\`warmHandleIdleMs\`) and \`command\` do not apply: the Job always runs the image's \`gemini\` CLI. Tool calls are
approved without asking (\`--approval-mode yolo\`, as in \`gemini_local\`): nobody can answer a prompt in a Job.
The CLI runs with \`GEMINI_CLI_TRUST_WORKSPACE=true\` (an untrusted folder would silently turn yolo off),
\`GEMINI_CLI_NO_RELAUNCH=true\` (no second process sized to the node's memory instead of the pod's) and
\`NO_BROWSER=1\`. Credentials (\`GEMINI_API_KEY\`, or \`GOOGLE_API_KEY\` / \`GOOGLE_GENAI_USE_VERTEXAI\` /
\`GOOGLE_CLOUD_*\` for Vertex AI) reach the pod through the runtime's env allowlist, \`inheritEnv\` or the \`env\` key;
usage is billed as \`api\` by \`google\`.

The run's enabled Paperclip skills are mounted read-only at \`~/.gemini/skills/\`, where Gemini CLI finds user skills
(\`gemini_local\` links them there too).

Sessions live in HOME (\`~/.gemini/tmp/<project>/chats/\`), per working directory: resuming needs the same HOME
and \`cwd\` as the run that made the session. An unknown session (\`Error resuming session\`) fails the run with
\`session_unavailable\` and clears the session. The session turn limit (\`model.maxSessionTurns\` in the CLI's
settings, exit 53) fails with \`max_turns_exhausted\` and clears the session. An API error fails with
\`llm_api_error\` (429 or quota: \`provider_quota\`, with the API's \`retryDelay\`; 5xx: \`transient_upstream\`) once the
CLI's own retries are spent; HTTP 401/403 fails with \`llm_auth_error\`, not retried. An empty reply fails with
\`llm_api_error\`. A CLI that exits with an error before printing anything (a rejected flag, no credentials) fails
with \`agent_start_failed\` and its own first stderr line. Output that stops before the \`result\` line (the pod was
killed, OOM, …) fails with \`gemini_truncated\`.
`;
