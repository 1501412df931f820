import type { AdapterModel } from "@paperclipai/adapter-utils";

const MODEL_IDS = ["gpt-5.6-sol", "gpt-6-astra", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.4", "gpt-5.4-mini", "gpt-5", "o3", "o4-mini"];
const MORE_MODEL_IDS = ["gpt-5-mini", "gpt-5-nano", "o3-mini"];

/** The models Paperclip's codex_local offers (2026.916.1), in its order; any model id the provider knows works too. */
export const codexModels: AdapterModel[] = [
  ...[...MODEL_IDS, ...MORE_MODEL_IDS].map((id) => ({ id, label: id })),
  { id: "codex-mini-latest", label: "Codex Mini" },
];

/** Fast mode (`service_tier="fast"`) is offered for these, and passed through for ids not in the list above. */
const FAST_MODE_MODELS = ["gpt-6-astra", "gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4"];

/** Legacy ids without model metadata, rewritten to the slug Codex knows (as codex_local does). */
const MODEL_ALIASES: Record<string, string> = { "gpt-5.6": "gpt-5.6-sol" };

export function normalizeCodexModel(model: string): string {
  return MODEL_ALIASES[model] ?? model;
}

/** Fast mode applies to the listed fast models, to ids outside the catalogue, and to Codex's own default (no model). */
export function supportsFastMode(model: string | null): boolean {
  return model === null || FAST_MODE_MODELS.includes(model) || !codexModels.some((known) => known.id === model);
}
