/**
 * Readers for single adapter-config values. Values may arrive typed (JSON) or as text from Paperclip's form, so each
 * reader accepts both and throws `ConfigValueError` with a message that names the key and the bad value.
 * `undefined`, `null` and blank text mean "not set".
 */
import { isAbsolute, posix } from "node:path";

export class ConfigValueError extends Error {
  override readonly name: string = "ConfigValueError";
  /** The top-level config key. */
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

/** A config value names a server path or program the operator has not allowed (error code `k8s_config_forbidden`). */
export class ConfigForbiddenError extends ConfigValueError {
  override readonly name: string = "ConfigForbiddenError";
}

/** The catalogue code for a config error. */
export function configErrorCode(error: ConfigValueError): "k8s_config_forbidden" | "k8s_config_invalid" {
  return error instanceof ConfigForbiddenError ? "k8s_config_forbidden" : "k8s_config_invalid";
}

const MAX_SHOWN_LENGTH = 80;

/**
 * Keys whose values may carry credentials (env values, kubeconfig tokens, `--api-key=…` arguments): messages
 * describe their bad values without showing any part of them.
 */
const SECRET_BEARING_KEYS: ReadonlySet<string> = new Set(["env", "kubeconfig", "extraArgs"]);

function describeHidden(value: unknown): string {
  if (typeof value === "string") return `a text of ${value.length} characters (not shown: it may hold a secret)`;
  if (Array.isArray(value)) return `a list of ${value.length} items (not shown: it may hold a secret)`;
  return `${value === null ? "null" : typeof value === "object" ? "an object" : `a ${typeof value}`} (not shown: it may hold a secret)`;
}

/** A bad value as shown in messages: JSON, shortened; never any of it for a secret-bearing `key`. */
export function show(value: unknown, key?: string): string {
  if (key !== undefined && SECRET_BEARING_KEYS.has(key)) return describeHidden(value);
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_SHOWN_LENGTH ? `${text.slice(0, MAX_SHOWN_LENGTH)}…` : text;
}

export function fail(key: string, path: string, expectation: string, value: unknown): never {
  throw new ConfigValueError(key, `config.${path} must be ${expectation}, got ${show(value, key)}`);
}

export function isUnset(value: unknown): value is undefined | null | "" {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readString(raw: unknown, key: string): string | undefined {
  if (isUnset(raw)) return undefined;
  if (typeof raw !== "string") fail(key, key, "a string", raw);
  return raw.trim();
}

/** A string that must also pass `check` (a syntax rule), described by `expectation`. */
export function readChecked(raw: unknown, key: string, expectation: string, check: (value: string) => boolean): string | undefined {
  const value = readString(raw, key);
  if (value !== undefined && !check(value)) fail(key, key, expectation, value);
  return value;
}

/** An absolute path, normalized, without a trailing slash. */
export function readAbsolutePath(raw: unknown, key: string): string | undefined {
  const value = readString(raw, key);
  if (value === undefined) return undefined;
  if (!isAbsolute(value)) fail(key, key, "an absolute path", value);
  const normalized = posix.normalize(value);
  return normalized.length > 1 ? normalized.replace(/\/+$/, "") : normalized;
}

/** The largest 32-bit signed integer: Kubernetes' limit for uids, gids and int32 fields. */
export const MAX_INT32 = 2 ** 31 - 1;
/** The longest duration a Node timer can wait (its delay is a 32-bit count of milliseconds). */
export const MAX_TIMER_SECONDS = Math.floor(MAX_INT32 / 1000);

export interface NumberRule {
  integer?: boolean;
  /** Smallest allowed value (default 0). */
  min?: number;
  /** Largest allowed value (default `MAX_INT32`): what Kubernetes or a Node timer accepts. */
  max?: number;
}

export function readNumber(raw: unknown, key: string, rule: NumberRule = {}): number | undefined {
  if (isUnset(raw)) return undefined;
  const value = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw.trim()) : Number.NaN;
  const min = rule.min ?? 0;
  const max = rule.max ?? MAX_INT32;
  const kind = rule.integer === true ? "integer" : "number";
  const expectation =
    min === 0 ? `a non-negative ${kind} up to ${max}` : min === 1 && rule.integer === true ? `a positive integer up to ${max}` : `a ${kind} from ${min} to ${max}`;
  if (!Number.isFinite(value) || value < min || value > max || (rule.integer === true && !Number.isInteger(value))) fail(key, key, expectation, raw);
  return value;
}

/** A duration in seconds that must be greater than zero. */
export function readPositiveSeconds(raw: unknown, key: string, max = MAX_INT32): number | undefined {
  const value = readNumber(raw, key, { max });
  if (value === 0) fail(key, key, `a positive number of seconds up to ${max}`, raw);
  return value;
}

export function readBoolean(raw: unknown, key: string): boolean | undefined {
  if (isUnset(raw)) return undefined;
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "string") {
    const text = raw.trim().toLowerCase();
    if (text === "true") return true;
    if (text === "false") return false;
  }
  return fail(key, key, "true or false", raw);
}

/** A JSON value given as text; `undefined` when `text` is not JSON-looking (starts with neither `{` nor `[`). */
export function parseJsonText(text: string, key: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    // JSON.parse's message quotes the text around the error, which may be a secret: only the position is kept.
    const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    throw new ConfigValueError(key, `config.${key} is not valid JSON${position === undefined ? "" : ` (at character ${position})`}`);
  }
}

/** A list given as an array of strings or as text separated by commas, whitespace or newlines. */
export function readStringList(raw: unknown, key: string): string[] | undefined {
  if (isUnset(raw)) return undefined;
  if (typeof raw === "string") {
    const json = parseJsonText(raw, key);
    if (json !== undefined) return readStringList(json, key);
    return raw.split(/[\s,]+/).filter((item) => item !== "");
  }
  if (!Array.isArray(raw)) fail(key, key, "a list of strings", raw);
  return raw.map((item, index) => {
    if (typeof item !== "string" || item.trim() === "") fail(key, `${key}[${index}]`, "a non-empty string", item);
    return item.trim();
  });
}

/**
 * A string map given as an object, as JSON text of one, or as `key=value` lines (blank lines and `#` comments skipped).
 * Numbers and booleans become strings. Each entry is handed to `check` (which throws on a bad entry).
 */
export function readStringMap(
  raw: unknown,
  key: string,
  check: (entryKey: string, value: string) => void,
): Record<string, string> | undefined {
  if (isUnset(raw)) return undefined;
  let entries: Array<[string, unknown]>;
  if (typeof raw === "string") {
    const json = parseJsonText(raw, key);
    if (json !== undefined) return readStringMap(json, key, check);
    entries = [];
    for (const [index, line] of raw.split(/\r?\n/).entries()) {
      const text = line.trim();
      if (text === "" || text.startsWith("#")) continue;
      const equals = text.indexOf("=");
      if (equals <= 0) fail(key, `${key} line ${index + 1}`, "key=value", text);
      entries.push([text.slice(0, equals).trim(), text.slice(equals + 1).trim()]);
    }
  } else if (isPlainObject(raw)) {
    entries = Object.entries(raw);
  } else {
    return fail(key, key, "an object, JSON text or key=value lines", raw);
  }
  const map: Record<string, string> = {};
  for (const [entryKey, value] of entries) {
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      fail(key, `${key}.${entryKey}`, "a string", value);
    }
    const text = String(value);
    check(entryKey, text);
    map[entryKey] = text;
  }
  return map;
}

/**
 * Splits text into arguments the way a POSIX shell splits words, without any expansion: whitespace separates,
 * '…' is literal, "…" honours \" \\ \$ \`, a backslash outside quotes escapes the next character.
 */
export function splitShellWords(text: string, key: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === "\\" && i + 1 < text.length && '"\\$`'.includes(text.charAt(i + 1))) word += text.charAt(++i);
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < text.length) {
      word += text.charAt(++i);
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== null) throw new ConfigValueError(key, `config.${key} has an unterminated ${quote} quote: ${show(text, key)}`);
  if (inWord) words.push(word);
  return words;
}
