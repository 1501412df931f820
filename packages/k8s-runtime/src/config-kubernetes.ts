/**
 * Readers for config values that are Kubernetes objects: resources, tolerations, label maps, env bindings.
 */
import type { V1Toleration } from "@kubernetes/client-node";
import { ConfigValueError, fail, isPlainObject, isUnset, parseJsonText, readStringMap, show } from "./config-values.ts";
import { isEnvName, isLabelValue, labelKeyProblem, parseQuantity } from "./k8s-syntax.ts";
import { RESERVED_LABEL_PREFIXES } from "./labels.ts";

export interface ResourceSettings {
  readonly requests?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, string>>;
}

/**
 * Kubernetes keeps quantities (and the scheduler compares them) as int64 thousandths ("milli" values), so about
 * 9.2e15 at most; the largest integer a double holds exactly lies just below that.
 */
const MAX_QUANTITY = Number.MAX_SAFE_INTEGER;

/** Parses an object or JSON text when `raw` is text; other values are returned as they are. */
function fromJsonText(raw: unknown, key: string): unknown {
  if (typeof raw !== "string") return raw;
  const json = parseJsonText(raw, key);
  return json === undefined ? raw : json;
}

function readQuantities(raw: unknown, key: string, section: string): Record<string, string> {
  if (!isPlainObject(raw)) return fail(key, `${key}.${section}`, "an object of quantities, e.g. {\"cpu\":\"500m\",\"memory\":\"1Gi\"}", raw);
  const quantities: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const problem = labelKeyProblem(name);
    if (problem !== null) throw new ConfigValueError(key, `config.${key}.${section} has an invalid resource name: ${problem}`);
    const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : null;
    const amount = text === null ? null : parseQuantity(text);
    if (text === null || amount === null) {
      return fail(key, `${key}.${section}.${name}`, "a Kubernetes quantity such as \"500m\", \"2\", \"512Mi\" or \"1Gi\"", value);
    }
    if (amount > MAX_QUANTITY) {
      fail(key, `${key}.${section}.${name}`, `a quantity of at most ${MAX_QUANTITY} (Kubernetes counts in 64-bit thousandths)`, value);
    }
    quantities[name] = text;
  }
  return quantities;
}

/** `{ requests: { cpu, memory, … }, limits: { … } }`, as an object or JSON text; each request at most its limit. */
export function readResources(raw: unknown, key: string): ResourceSettings | undefined {
  if (isUnset(raw)) return undefined;
  const value = fromJsonText(raw, key);
  if (!isPlainObject(value)) return fail(key, key, "an object with requests and/or limits", raw);
  const unknown = Object.keys(value).filter((section) => section !== "requests" && section !== "limits");
  if (unknown.length > 0) fail(key, key, "an object with only requests and limits", `${unknown.join(", ")}`);
  const requests = isUnset(value.requests) ? undefined : readQuantities(value.requests, key, "requests");
  const limits = isUnset(value.limits) ? undefined : readQuantities(value.limits, key, "limits");
  for (const [name, request] of Object.entries(requests ?? {})) {
    const limit = limits?.[name];
    if (limit !== undefined && (parseQuantity(request) ?? 0) > (parseQuantity(limit) ?? 0)) {
      throw new ConfigValueError(key, `config.${key}.requests.${name} (${request}) must not exceed limits.${name} (${limit})`);
    }
  }
  return { ...(requests === undefined ? {} : { requests }), ...(limits === undefined ? {} : { limits }) };
}

const TOLERATION_FIELDS = new Set(["key", "operator", "value", "effect", "tolerationSeconds"]);
const TOLERATION_EFFECTS = new Set(["", "NoSchedule", "PreferNoSchedule", "NoExecute"]);

function readToleration(raw: unknown, key: string, path: string): V1Toleration {
  if (!isPlainObject(raw)) return fail(key, path, "a toleration object", raw);
  const unknown = Object.keys(raw).filter((field) => !TOLERATION_FIELDS.has(field));
  if (unknown.length > 0) fail(key, path, `a toleration with only ${[...TOLERATION_FIELDS].join(", ")}`, `${unknown.join(", ")}`);
  const field = (name: string): string | undefined => {
    const value = raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") return fail(key, `${path}.${name}`, "a string", value);
    return value;
  };
  const tolerationKey = field("key");
  const operator = field("operator") ?? "Equal";
  const value = field("value");
  const effect = field("effect");
  if (operator !== "Equal" && operator !== "Exists") fail(key, `${path}.operator`, "Exists or Equal", operator);
  if (tolerationKey !== undefined && tolerationKey !== "") {
    const problem = labelKeyProblem(tolerationKey);
    if (problem !== null) throw new ConfigValueError(key, `config.${path}.key is invalid: ${problem}`);
  } else if (operator !== "Exists") {
    fail(key, `${path}.operator`, "Exists when key is empty", operator);
  }
  if (operator === "Exists" && value !== undefined && value !== "") fail(key, `${path}.value`, "empty when operator is Exists", value);
  if (value !== undefined && !isLabelValue(value)) fail(key, `${path}.value`, "a valid label value", value);
  if (effect !== undefined && !TOLERATION_EFFECTS.has(effect)) fail(key, `${path}.effect`, "NoSchedule, PreferNoSchedule or NoExecute", effect);
  const seconds = raw.tolerationSeconds;
  if (seconds !== undefined && seconds !== null) {
    if (typeof seconds !== "number" || !Number.isSafeInteger(seconds)) fail(key, `${path}.tolerationSeconds`, "an integer (int64)", seconds);
    if (effect !== "NoExecute") fail(key, `${path}.effect`, "NoExecute when tolerationSeconds is set", effect ?? "");
  }
  return {
    ...(tolerationKey === undefined ? {} : { key: tolerationKey }),
    operator,
    ...(value === undefined ? {} : { value }),
    ...(effect === undefined ? {} : { effect }),
    ...(typeof seconds === "number" ? { tolerationSeconds: seconds } : {}),
  };
}

/** A list of tolerations, or JSON text of one. Anything else (a single object included) is an error. */
export function readTolerations(raw: unknown, key: string): V1Toleration[] | undefined {
  if (isUnset(raw)) return undefined;
  const value = fromJsonText(raw, key);
  if (!Array.isArray(value)) return fail(key, key, "a list of tolerations (or JSON text of one)", raw);
  return value.map((item, index) => readToleration(item, key, `${key}[${index}]`));
}

function checkLabel(key: string, labelKey: string, value: string): void {
  const problem = labelKeyProblem(labelKey);
  if (problem !== null) throw new ConfigValueError(key, `config.${key} has an invalid label key ${show(labelKey)}: ${problem}`);
  if (!isLabelValue(value)) {
    fail(key, `${key}.${labelKey}`, "a label value (at most 63 letters, digits, '-', '_', '.', starting and ending alphanumeric)", value);
  }
}

/** A node selector: label keys and values. */
export function readNodeSelector(raw: unknown, key: string): Record<string, string> | undefined {
  return readStringMap(raw, key, (labelKey, value) => checkLabel(key, labelKey, value));
}

/** User labels for the Job and pod: valid labels outside the runtime's reserved prefixes. */
export function readUserLabels(raw: unknown, key: string): Record<string, string> | undefined {
  return readStringMap(raw, key, (labelKey, value) => {
    checkLabel(key, labelKey, value);
    const reserved = RESERVED_LABEL_PREFIXES.find((prefix) => labelKey.startsWith(prefix));
    if (reserved !== undefined) {
      throw new ConfigValueError(key, `config.${key} may not set ${show(labelKey)}: the ${reserved} prefix is reserved for the runtime`);
    }
  });
}

/**
 * Env values: plain strings, or Paperclip env bindings `{ type: "plain", value }`. Secret bindings must have been
 * resolved by Paperclip before the run; an unresolved one is an error. Values are never shown in messages.
 */
export function readEnv(raw: unknown, key: string): Record<string, string> | undefined {
  if (isUnset(raw)) return undefined;
  const value = fromJsonText(raw, key);
  const checkName = (name: string): void => {
    if (!isEnvName(name)) throw new ConfigValueError(key, `config.${key} has an invalid variable name, ${show(name, key)} (use letters, digits and _, not starting with a digit)`);
  };
  if (!isPlainObject(value)) return readStringMap(value, key, (name) => checkName(name));
  const env: Record<string, string> = {};
  for (const [name, binding] of Object.entries(value)) {
    checkName(name);
    if (typeof binding === "string" || typeof binding === "number" || typeof binding === "boolean") {
      env[name] = String(binding);
    } else if (isPlainObject(binding) && binding.type === "plain" && typeof binding.value === "string") {
      env[name] = binding.value;
    } else if (isPlainObject(binding) && (binding.type === "secret_ref" || binding.type === "user_secret_ref")) {
      throw new ConfigValueError(key, `config.${key}.${name} is a Paperclip secret reference that was not resolved; check that the secret exists and the agent may use it`);
    } else {
      throw new ConfigValueError(key, `config.${key}.${name} must be a string or a {"type":"plain","value":…} binding`);
    }
  }
  return env;
}
