import type { ConfigFieldSchema } from "@paperclipai/adapter-utils";

/** `extraArgs`: every agent CLI takes it the same way (`readExtraArgs`). */
export const extraArgsField: ConfigFieldSchema = {
  key: "extraArgs",
  label: "Extra CLI arguments",
  type: "text",
  hint: "Appended after all other arguments: a list of strings, or one string split on whitespace. Never run through a shell.",
};

/** Paperclip's prompt keys, rendered by the runtime the same way for every agent. */
export const promptTemplateFields: readonly ConfigFieldSchema[] = [
  {
    key: "promptTemplate",
    label: "Prompt template",
    type: "textarea",
    hint: "Template for each run's prompt (Paperclip's default when blank).",
  },
  {
    key: "bootstrapPromptTemplate",
    label: "Bootstrap prompt template",
    type: "textarea",
    hint: "Extra prompt sent only when a session starts fresh.",
  },
];
