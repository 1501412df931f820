/**
 * Which adapter-config keys mean something, so a misspelt one (`timeoutSecs`, `namesapce`) is reported instead of
 * silently ignored. A config holds three kinds of keys: the runtime's, the agent's own form fields, and the keys
 * Paperclip itself writes into every adapter config (checked against paperclipai 2026.916.1: the instructions
 * bundle's keys in `services/agent-instructions.js`, the skills it injects per run in `services/heartbeat.js`).
 */
import { runtimeConfigFields } from "./config-doc.ts";

/** Keys the runtime reads that the agent's own form documents (their meaning is CLI-specific). */
const RUNTIME_KEYS_DOCUMENTED_BY_AGENTS: readonly string[] = [
  "model",
  "extraArgs",
  "promptTemplate",
  "bootstrapPromptTemplate",
  "instructionsFilePath",
  "dangerouslySkipPermissions",
];

/** Keys Paperclip writes into adapter configs itself. */
const PAPERCLIP_KEYS: readonly string[] = [
  "instructionsBundleMode",
  "instructionsRootPath",
  "instructionsEntryFile",
  "instructionsFilePath",
  "promptTemplate",
  "bootstrapPromptTemplate",
  "workspaceStrategy",
];
/** Paperclip's per-run keys: `paperclipRuntimeSkills`, `paperclipSkillSync`, and more in later versions. */
const PAPERCLIP_KEY = /^paperclip[A-Z]/;

const MAX_KEYS_SHOWN = 10;
const MAX_KEY_LENGTH_SHOWN = 60;

/** The keys of `config` that neither the runtime, nor the agent (`agentFields`), nor Paperclip knows. */
export function unknownConfigKeys(config: Readonly<Record<string, unknown>>, agentFields: readonly { key: string }[]): string[] {
  const known = new Set([
    ...runtimeConfigFields.map((field) => field.key),
    ...RUNTIME_KEYS_DOCUMENTED_BY_AGENTS,
    ...PAPERCLIP_KEYS,
    ...agentFields.map((field) => field.key),
  ]);
  return Object.keys(config).filter((key) => !known.has(key) && !PAPERCLIP_KEY.test(key));
}

/** A warning naming unknown keys (at most a few, each shortened: the keys are agent-written text), or null. */
export function unknownKeysWarning(keys: readonly string[]): string | null {
  if (keys.length === 0) return null;
  const shown = keys.slice(0, MAX_KEYS_SHOWN).map((key) => {
    const text = JSON.stringify(key);
    return text.length > MAX_KEY_LENGTH_SHOWN ? `${text.slice(0, MAX_KEY_LENGTH_SHOWN)}…` : text;
  });
  const more = keys.length > MAX_KEYS_SHOWN ? ` and ${keys.length - MAX_KEYS_SHOWN} more` : "";
  return `Unknown config ${keys.length === 1 ? "key" : "keys"} ignored (misspelt?): ${shown.join(", ")}${more}.`;
}
