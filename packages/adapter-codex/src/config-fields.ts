import type { AdapterConfigSchema } from "@paperclipai/adapter-utils";
import { extraArgsField, promptTemplateFields } from "paperclip-k8s-runtime/agent-kit";
import { codexModels } from "./models.ts";

/** The Codex-specific fields of the agent form (codex_local's keys); the runtime adds the Kubernetes ones. */
export const codexConfigFields: AdapterConfigSchema["fields"] = [
  {
    key: "model",
    label: "Model",
    type: "combobox",
    options: codexModels.map((model) => ({ value: model.id, label: model.label })),
    hint: "Codex model id, passed as --model. Blank uses Codex's configured default.",
  },
  {
    key: "modelReasoningEffort",
    label: "Reasoning effort",
    type: "text",
    hint: "Passed as -c model_reasoning_effort=… (minimal, low, medium, high, xhigh; some models also max, ultra).",
  },
  { key: "search", label: "Web search", type: "toggle", default: false, hint: "Runs Codex with --search." },
  {
    key: "fastMode",
    label: "Fast mode",
    type: "toggle",
    default: false,
    hint: "service_tier=fast on the models that offer it (and on model ids outside the list).",
  },
  {
    key: "dangerouslyBypassApprovalsAndSandbox",
    label: "Bypass approvals and sandbox",
    type: "toggle",
    default: true,
    hint: "--dangerously-bypass-approvals-and-sandbox: the pod is the sandbox. Off: Codex's workspace-write sandbox with network access.",
  },
  extraArgsField,
  {
    key: "instructionsFilePath",
    label: "Instructions file",
    type: "text",
    hint: "Absolute path of a markdown file prepended to the prompt on every run.",
  },
  ...promptTemplateFields,
];

export const codexConfigurationDoc = `# codex_k8s agent configuration

Runs OpenAI Codex (\`codex exec --json\`) as a Kubernetes Job. The prompt goes to the CLI on stdin (\`-\`).
Codex keys (the same names and meaning as Paperclip's \`codex_local\` with \`engine: "cli"\`):

- \`model\` (string, optional): passed as \`--model\` (\`gpt-5.6\` is rewritten to \`gpt-5.6-sol\`, as codex_local does).
  Blank: Codex's configured default.
- \`modelReasoningEffort\` (string, optional; \`reasoningEffort\` is read too): passed as \`-c model_reasoning_effort=…\`.
- \`search\` (boolean, default false): runs \`codex --search exec …\`.
- \`fastMode\` (boolean, default false): \`-c service_tier="fast" -c features.fast_mode=true\` on the models that offer
  it (gpt-6-astra, gpt-5.6-sol/terra/luna, gpt-5.5, gpt-5.4) and on model ids outside the list; ignored otherwise.
- \`dangerouslyBypassApprovalsAndSandbox\` (boolean, default true; \`dangerouslyBypassSandbox\` and the runtime's
  \`dangerouslySkipPermissions\` are read too): \`--dangerously-bypass-approvals-and-sandbox\`, since the pod is the
  sandbox and nobody can answer an approval. Off: \`-c sandbox_mode="workspace-write"\` with network access (unless
  \`extraArgs\` choose a sandbox or profile) and \`--skip-git-repo-check\`.
- \`extraArgs\` (list of strings, or one whitespace-separated string, optional): added after the flags above and
  before \`resume <thread id> -\`, each as one argument; nothing is interpreted by a shell. This is where a custom model
  provider goes, e.g. \`-c model_providers.gw={ name = "Gateway", base_url = "https://…/v1", wire_api = "responses",
  env_key = "GATEWAY_API_KEY" } -c model_provider=gw\`.
- \`instructionsFilePath\` (absolute path, optional): markdown instructions for every run.
- \`promptTemplate\` / \`bootstrapPromptTemplate\` (string, optional): the run prompt, and the part sent only when a
  session starts fresh.

Codex keeps its threads, logs and skills in \`CODEX_HOME\` (default \`~/.codex\` in the agent's HOME, which outlives
every Job), so the next run resumes with \`codex exec … resume <thread id> -\`. A thread id Codex has no rollout for
fails the run with \`session_unavailable\` and clears the session. Usage is what Codex reports in \`turn.completed\`:
the thread's running total, which includes earlier runs of a resumed thread. Codex reports no cost.

A failed turn (\`turn.failed\`) fails the run with \`llm_api_error\` (429 or usage limit: provider quota; 5xx, "high
demand", "temporary errors": transient upstream); with HTTP 401/403 it fails with \`llm_auth_error\`, not retried.
An empty reply fails with \`llm_api_error\`. A CLI that exits with an error before printing anything (a missing
\`CODEX_HOME\`, a rejected flag) fails with \`agent_start_failed\` and its own first stderr line. Output that stops
before \`turn.completed\` or \`turn.failed\` (the pod was killed, OOM, …) fails with \`codex_truncated\`.
`;
