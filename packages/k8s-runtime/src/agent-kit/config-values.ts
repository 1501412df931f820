/** Readers for the agent's own config keys: each either returns a typed value or throws naming the key. */

export function readBoolean(config: Readonly<Record<string, unknown>>, key: string, fallback: boolean): boolean {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  // Config forms and JSON text sometimes carry booleans as strings.
  if (value === "true") return true;
  if (value === "false") return false;
  throw new Error(`${key} must be true or false, got ${JSON.stringify(value)}`);
}

/** A positive integer, or null when the key is unset (0 also means "no limit", as in claude_local). */
export function readPositiveInteger(config: Readonly<Record<string, unknown>>, key: string): number | null {
  const value = config[key];
  if (value === undefined || value === null || value === "" || value === 0 || value === "0") return null;
  const number = typeof value === "string" ? Number(value.trim()) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < 0) {
    throw new Error(`${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** One of `choices` (case-insensitive, trimmed), or null when unset or blank. */
export function readChoice<T extends string>(
  config: Readonly<Record<string, unknown>>,
  key: string,
  choices: readonly T[],
): T | null {
  const value = config[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new Error(`${key} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
  const normalized = value.trim().toLowerCase();
  if (normalized === "") return null;
  const match = choices.find((choice) => choice === normalized);
  if (match === undefined) throw new Error(`${key} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
  return match;
}

/** A trimmed non-empty string, or null when unset or blank. */
export function readText(config: Readonly<Record<string, unknown>>, key: string): string | null {
  const value = config[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new Error(`${key} must be a string, got ${JSON.stringify(value)}`);
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

/**
 * `extraArgs`: a list of strings (claude_local's shape), or one string split on whitespace (the older
 * k8s adapters' shape). Each element stays one argv element; nothing is ever shell-interpreted.
 */
export function readExtraArgs(config: Readonly<Record<string, unknown>>): string[] {
  const value = config.extraArgs;
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value.split(/\s+/).filter((arg) => arg !== "");
  if (!Array.isArray(value)) throw new Error(`extraArgs must be a list of strings or a string, got ${JSON.stringify(value)}`);
  return value.map((arg: unknown, index) => {
    if (typeof arg !== "string") throw new Error(`extraArgs[${index}] must be a string, got ${JSON.stringify(arg)}`);
    return arg;
  });
}
