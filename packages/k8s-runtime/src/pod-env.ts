/**
 * Which of the Paperclip server's environment variables an agent pod inherits: an allowlist, never the whole
 * environment (copying it once put database URLs and signing secrets into every agent pod).
 *
 * A variable the server's container gets by reference (`secretKeyRef`, `configMapKeyRef`) is passed on by the same
 * reference; any other inherited value is a literal that must travel in the per-run Secret. `envFrom` sources are
 * opaque sets (a Secret often holds every server secret at once), so they are passed on only when `inheritEnv`
 * names them (`secretRef:<name>`, `configMapRef:<name>`).
 */
import type { V1Container, V1EnvFromSource, V1EnvVar, V1EnvVarSource } from "@kubernetes/client-node";
import { isDns1123Subdomain, isEnvName } from "./k8s-syntax.ts";

/** Inherited by default: LLM provider credentials and settings, the agent CLIs' own settings, proxies. */
export const DEFAULT_INHERITED_ENV: readonly string[] = [
  "ANTHROPIC_*",
  "CLAUDE_CODE_*",
  "OPENAI_*",
  "AZURE_OPENAI_*",
  "OPENROUTER_*",
  "OPENCODE_*",
  "GEMINI_*",
  "GOOGLE_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY",
  "GOOGLE_CLOUD_PROJECT",
  "GOOGLE_CLOUD_LOCATION",
  "CLOUD_ML_REGION",
  // Amazon Bedrock.
  "AWS_*",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/**
 * Never inherited, whatever `inheritEnv` says: Paperclip's own configuration and signing secrets
 * (the runtime sets the agent's `PAPERCLIP_*` variables itself) and the auth library's secrets.
 */
export const NEVER_INHERITED_PREFIXES: readonly string[] = ["PAPERCLIP_", "BETTER_AUTH_"];

type InheritRule =
  | { kind: "name"; name: string }
  | { kind: "prefix"; prefix: string }
  | { kind: "envFrom"; source: "secretRef" | "configMapRef"; name: string };

const ENV_FROM_ENTRY = /^(secretRef|configMapRef):(.*)$/;

function parseInheritEntry(entry: string): InheritRule | { problem: string } {
  const envFrom = ENV_FROM_ENTRY.exec(entry);
  if (envFrom !== null) {
    const source = envFrom[1] === "secretRef" ? "secretRef" : "configMapRef";
    const name = envFrom[2] ?? "";
    return isDns1123Subdomain(name) ? { kind: "envFrom", source, name } : { problem: `${source} name ${JSON.stringify(name)} is not a valid object name` };
  }
  const isPattern = entry.endsWith("*");
  const stem = isPattern ? entry.slice(0, -1) : entry;
  if (isPattern && stem === "") return { problem: `"*" would pass the whole environment; list names or prefixes` };
  if (!isEnvName(stem)) {
    return { problem: `${JSON.stringify(entry)} is not an env var name or a PREFIX_* pattern (nor secretRef:<name> / configMapRef:<name>)` };
  }
  const refused = NEVER_INHERITED_PREFIXES.find((prefix) => stem.startsWith(prefix));
  if (refused !== undefined) return { problem: `${JSON.stringify(entry)}: ${refused}* variables are never passed to agent pods` };
  return isPattern ? { kind: "prefix", prefix: stem } : { kind: "name", name: stem };
}

/** Why an `inheritEnv` entry is refused, or null when it is fine (config validation). */
export function inheritEntryProblem(entry: string): string | null {
  const rule = parseInheritEntry(entry);
  return "problem" in rule ? rule.problem : null;
}

export interface InheritedEnvSources {
  /** The server's process environment (literal values). */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** The Paperclip server's container spec when it runs in a pod (from self-pod discovery). */
  serverContainer?: V1Container;
  /** Config `inheritEnv`: extra names, `PREFIX_*` patterns, `secretRef:<name>`, `configMapRef:<name>`. Validated. */
  inheritEnv: readonly string[];
}

export interface InheritedEnv {
  /** Inherited literal values: they go into the per-run Secret, never into the Job spec. */
  secretValues: Record<string, string>;
  /** Inherited by reference, exactly as the server's container gets them. */
  references: V1EnvVar[];
  /** Whole Secrets/ConfigMaps, only those `inheritEnv` names. */
  envFrom: V1EnvFromSource[];
}

/** A reference that means the same in the agent's pod: a key of a Secret or ConfigMap in the same namespace. */
function portableReference(source: V1EnvVarSource | undefined): V1EnvVarSource | null {
  if (source?.secretKeyRef !== undefined) return { secretKeyRef: source.secretKeyRef };
  if (source?.configMapKeyRef !== undefined) return { configMapKeyRef: source.configMapKeyRef };
  return null;
}

/** The allowlisted part of the server's environment, split into Secret-bound literals and references. */
export function collectInheritedEnv(sources: InheritedEnvSources): InheritedEnv {
  const rules: InheritRule[] = [];
  for (const entry of [...DEFAULT_INHERITED_ENV, ...sources.inheritEnv]) {
    const rule = parseInheritEntry(entry);
    if ("problem" in rule) throw new Error(`inheritEnv: ${rule.problem}`);
    rules.push(rule);
  }
  const isAllowed = (name: string): boolean =>
    isEnvName(name) &&
    !NEVER_INHERITED_PREFIXES.some((prefix) => name.startsWith(prefix)) &&
    rules.some((rule) => (rule.kind === "name" ? rule.name === name : rule.kind === "prefix" && name.startsWith(rule.prefix)));

  // Later entries of a container's env override earlier ones, as in Kubernetes.
  const specByName = new Map<string, V1EnvVar>();
  for (const envVar of sources.serverContainer?.env ?? []) specByName.set(envVar.name, envVar);

  const names = new Set([...Object.keys(sources.processEnv), ...specByName.keys()]);
  const result: InheritedEnv = { secretValues: {}, references: [], envFrom: [] };
  for (const name of [...names].sort()) {
    if (!isAllowed(name)) continue;
    const spec = specByName.get(name);
    const reference = portableReference(spec?.valueFrom);
    if (reference !== null) {
      result.references.push({ name, valueFrom: reference });
      continue;
    }
    // Other sources (fieldRef, resourceFieldRef, …) would resolve differently in the agent's pod: pass the value the server sees.
    const value = sources.processEnv[name] ?? spec?.value;
    if (value !== undefined) result.secretValues[name] = value;
  }

  for (const rule of rules) {
    if (rule.kind !== "envFrom") continue;
    const serverSource = sources.serverContainer?.envFrom?.find((source) => source[rule.source]?.name === rule.name);
    const reference = { name: rule.name };
    result.envFrom.push(serverSource ?? (rule.source === "secretRef" ? { secretRef: reference } : { configMapRef: reference }));
  }
  return result;
}
