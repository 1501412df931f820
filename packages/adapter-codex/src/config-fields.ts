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

Runs OpenAI Codex (\`codex exec --json … -\`, the prompt on stdin) as a Kubernetes Job, with the keys of Paperclip's
\`codex_local\` (\`engine: "cli"\`):

- \`model\` (string, optional): \`--model\` (\`gpt-5.6\` becomes \`gpt-5.6-sol\`, as in codex_local). Blank: Codex's default.
- \`modelReasoningEffort\` (string, optional; \`reasoningEffort\` is read too): \`-c model_reasoning_effort=…\`.
- \`search\` (boolean, default false): \`codex --search exec …\`.
- \`fastMode\` (boolean, default false): \`-c service_tier="fast" -c features.fast_mode=true\` on gpt-6-astra,
  gpt-5.6-sol/terra/luna, gpt-5.5, gpt-5.4 and model ids outside the list; ignored for the others.
- \`dangerouslyBypassApprovalsAndSandbox\` (boolean, default true; \`dangerouslyBypassSandbox\` and
  \`dangerouslySkipPermissions\` are read too): \`--dangerously-bypass-approvals-and-sandbox\`: the pod is the sandbox.
  Off: \`-c sandbox_mode="workspace-write"\` with network access (unless \`extraArgs\` choose a sandbox or profile)
  and \`--skip-git-repo-check\`.
- \`extraArgs\` (list, or one whitespace-separated string): after the flags above, before \`resume <thread> -\`; never
  run through a shell. A custom model provider goes here: \`-c model_providers.gw={ name = "Gateway", base_url =
  "https://…/v1", wire_api = "responses", env_key = "GATEWAY_API_KEY" } -c model_provider=gw\`.
- \`instructionsFilePath\` (absolute path, optional): prepended to the prompt, except on a resumed thread's wake delta.
- \`promptTemplate\` / \`bootstrapPromptTemplate\` (string, optional): the run prompt, and the part sent only fresh.

Codex keeps its threads and skills in \`CODEX_HOME\` (\`~/.codex\` in the agent's HOME, which outlives every Job; the
run's skills are mounted read-only at \`~/.codex/skills\`), so the next run resumes with \`resume <thread id>\`. An
unknown thread fails with \`session_unavailable\` and clears the session, also when Codex silently starts a new
thread instead. Usage is Codex's \`turn.completed\`: the thread's running total (\`session_cumulative\` once resumed).
Codex reports no cost. A failed turn is \`llm_api_error\` (429 or usage limit: provider quota; 5xx, "high demand":
transient upstream), or \`llm_auth_error\` for HTTP 401/403 (not retried); an empty reply is \`llm_api_error\`. A CLI
that exits with an error before any output (a missing \`CODEX_HOME\`, a rejected flag) is \`agent_start_failed\` with
its first stderr line; output that stops before \`turn.completed\`/\`turn.failed\` (killed, OOM) is \`codex_truncated\`.
`;
