import type { AdapterModel } from "@paperclipai/adapter-utils";

/** The models Paperclip's opencode_local offers; any `provider/model` OpenCode knows works too. */
export const openCodeModels: AdapterModel[] = [
  { id: "openai/gpt-5.2-codex", label: "openai/gpt-5.2-codex" },
  { id: "openai/gpt-5.5", label: "openai/gpt-5.5" },
  { id: "openai/gpt-5.4", label: "openai/gpt-5.4" },
  { id: "openai/gpt-5.4-mini", label: "openai/gpt-5.4-mini" },
  { id: "openai/gpt-5.2", label: "openai/gpt-5.2" },
  { id: "openai/gpt-5.1-codex-max", label: "openai/gpt-5.1-codex-max" },
  { id: "openai/gpt-5.1-codex-mini", label: "openai/gpt-5.1-codex-mini" },
];
