/**
 * Readers for an agent's own config keys, on the runtime's rules (typed or text values, blank means
 * unset) and with its errors: `ConfigValueError` naming the key, which a run reports as
 * `k8s_config_invalid`.
 */
import { fail, isUnset, readBoolean, readNumber, readString } from "../config-values.ts";

type AgentConfig = Readonly<Record<string, unknown>>;

/** A positive integer, or null when the key is unset (0 also means "no limit", as in claude_local). */
export function readPositiveInteger(config: AgentConfig, key: string): number | null {
  const value = config[key];
  if (value === 0 || value === "0") return null;
  return readNumber(value, key, { min: 1, integer: true }) ?? null;
}

/** One of `choices` (case-insensitive, trimmed), or null when unset or blank. */
export function readChoice<T extends string>(config: AgentConfig, key: string, choices: readonly T[]): T | null {
  const value = config[key];
  if (isUnset(value)) return null;
  const normalized = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  return choices.find((choice) => choice === normalized) ?? fail(key, key, `one of ${choices.join(", ")}`, value);
}

/** A trimmed non-empty string, or null when unset or blank. */
export function readText(config: AgentConfig, key: string): string | null {
  return readString(config[key], key) ?? null;
}

/** `true` or `false` (a boolean, or that text), or null when unset or blank. */
export function readFlag(config: AgentConfig, key: string): boolean | null {
  return readBoolean(config[key], key) ?? null;
}
