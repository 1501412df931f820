/**
 * Cluster access (DESIGN §3 step 2): a `KubeConfig` from the `kubeconfig` config value (a file
 * path or the kubeconfig text itself), else in-cluster credentials, else client-node's default
 * (`$KUBECONFIG`, `~/.kube/config`). One client set per distinct kubeconfig, created on first
 * use and reused by every run of the process, so the shared watch is shared too, and so is one
 * keep-alive connection pool per cluster (`cluster-connections.ts`).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import {
  AuthorizationV1Api,
  BatchV1Api,
  type Configuration,
  type ConfigurationOptions,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  Observable,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
} from "@kubernetes/client-node";
import { undiciHttpLibrary } from "./client-node-http.ts";
import { KeepAlivePool, tlsMaterial } from "./cluster-connections.ts";
import { ConfigValueError } from "./config-values.ts";
import { checkKubeconfig, type KubeconfigPolicy, MAX_KUBECONFIG_BYTES, parseKubeconfigText } from "./kubeconfig-policy.ts";
import { RunObjectApi } from "./run-object-api.ts";
import { readServerFile } from "./server-paths.ts";

export type KubeconfigSource = "file" | "inline" | "in-cluster" | "default";

export interface ClusterAccess {
  /** Identifies the kubeconfig; the shared-watch registry and other per-cluster caches key on it. */
  key: string;
  source: KubeconfigSource;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  authorization: AuthorizationV1Api;
  /** The five calls of every run, as plain JSON (cheaper than the generated clients' `core` and `batch`). */
  runObjects: RunObjectApi;
  /** The current context's namespace, `default` when it names none. */
  currentNamespace: string;
  /** API server URL, for messages. */
  server: string;
}

/** Loading a kubeconfig failed; the message says from where and what went wrong. */
export class ClusterAccessError extends Error {
  readonly source: KubeconfigSource;

  constructor(source: KubeconfigSource, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "ClusterAccessError";
    this.source = source;
  }
}

export interface ClusterAccessOptions {
  /** Prefix for the service-account files (`/var/run/secrets/kubernetes.io/serviceaccount/…`); tests only. */
  inClusterPathPrefix?: string;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** What client-node's `loadFromDefault` falls back to when it found nothing at all. */
const DEFAULT_FALLBACK_SERVER = "http://localhost:8080";

const clientSets = new Map<string, ClusterAccess>();

/** This package's version; none when the code was bundled away from its package.json. */
function packageVersion(): string | undefined {
  try {
    const manifest: unknown = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    const version: unknown = typeof manifest === "object" && manifest !== null ? Reflect.get(manifest, "version") : undefined;
    return typeof version === "string" ? version : undefined;
  } catch {
    return undefined;
  }
}

/** What every request of the runtime sends as User-Agent: audit logs (and the sim's request records) tell it apart. */
export const RUNTIME_USER_AGENT = ["paperclip-k8s-runtime", packageVersion()].filter(Boolean).join("/");

/**
 * client-node sends its own User-Agent from a middleware on API clients and none on watches; both
 * authenticate every request through the kubeconfig, so that is where ours goes, and where every
 * request gets the cluster's keep-alive pool instead of a new agent of its own.
 */
class RuntimeKubeConfig extends KubeConfig {
  readonly connections = new KeepAlivePool();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    // What client-node's own applySecurityAuthentication derives, through its public API.
    const options: RequestOptions = {};
    await this.applyToHTTPSOptions(options);
    const dispatcherOptions = this.createDispatcherOptions(this.getCurrentCluster(), tlsMaterial(options));
    if (dispatcherOptions.type === "socks") {
      await super.applySecurityAuthentication(context);
    } else {
      if (options.auth) context.setHeaderParam("Authorization", `Basic ${Buffer.from(options.auth).toString("base64")}`);
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        if (value !== undefined) context.setHeaderParam(name, String(value));
      }
      const kind = new URL(context.getUrl()).searchParams.get("watch") === "true" ? "watch" : "call";
      context.setDispatcher(this.connections.dispatcherFor(dispatcherOptions, kind));
    }
    context.setHeaderParam("User-Agent", RUNTIME_USER_AGENT);
  }
}

/**
 * Like `kubeConfig.makeApiClient`, without the middleware that would put client-node's User-Agent back, and sending
 * through undici's `request` (`client-node-http.ts`).
 */
function apiClient<T>(kubeConfig: KubeConfig, server: string, Api: new (configuration: Configuration) => T): T {
  return new Api(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: kubeConfig }, httpApi: undiciHttpLibrary }));
}

/**
 * Inline kubeconfig text is YAML (block style, so several lines) or JSON (starts with `{`); a
 * file path is one line. Anything else is taken as a path and fails as "file not found".
 */
export function isInlineKubeconfig(value: string): boolean {
  const text = value.trim();
  return text.startsWith("{") || text.includes("\n");
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? homedir() + path.slice(1) : path;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function digestOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Loads kubeconfig text; relative file names in it count from `baseDir` (a file's directory) when given. */
function loadText(kubeConfig: KubeConfig, text: string, baseDir: string | null): void {
  // Parsed first for the error message: client-node's would quote the text, which may hold a token.
  parseKubeconfigText(text);
  kubeConfig.loadFromString(text);
  if (baseDir !== null) kubeConfig.makePathsAbsolute(baseDir);
}

/** Where the credentials come from and the cache key for them, decided without loading anything. */
function locate(
  setting: string | undefined,
  options: ClusterAccessOptions,
): { source: KubeconfigSource; key: string; load: (kubeConfig: KubeConfig) => void } {
  const value = setting?.trim();
  if (value) {
    if (isInlineKubeconfig(value)) {
      return { source: "inline", key: `inline:${digestOf(value)}`, load: (kc) => loadText(kc, value, null) };
    }
    const path = resolve(expandHome(value));
    return {
      source: "file",
      key: `file:${path}`,
      load: (kc) => {
        if (!existsSync(path)) {
          throw new Error(`file not found: ${path} (the kubeconfig setting is a path, or the kubeconfig text itself)`);
        }
        if (!statSync(path).isFile()) throw new Error(`not a file: ${path}`);
        loadText(kc, readFileSync(path, "utf8"), dirname(path));
      },
    };
  }
  const prefix = options.inClusterPathPrefix ?? "";
  if (process.env.KUBERNETES_SERVICE_HOST && existsSync(prefix + SERVICE_ACCOUNT_TOKEN)) {
    return { source: "in-cluster", key: `in-cluster:${prefix}`, load: (kc) => kc.loadFromCluster(prefix) };
  }
  return {
    source: "default",
    key: `default:${process.env.KUBECONFIG ?? ""}`,
    load: (kc) => {
      kc.loadFromDefault();
      const cluster = kc.getCurrentCluster();
      const fellBack = kc.getCurrentContext() === "loaded-context" && cluster?.server === DEFAULT_FALLBACK_SERVER;
      if (fellBack && !process.env.KUBECONFIG) {
        throw new Error(
          "no kubeconfig found: the kubeconfig setting is empty, this is not a pod (no KUBERNETES_SERVICE_HOST " +
            "and service-account token), and neither $KUBECONFIG nor ~/.kube/config exists",
        );
      }
    },
  };
}

const SOURCE_NAMES: Record<KubeconfigSource, string> = {
  file: "kubeconfig file",
  inline: "inline kubeconfig",
  "in-cluster": "in-cluster service account",
  default: "default kubeconfig ($KUBECONFIG or ~/.kube/config)",
};

function loadKubeConfig(source: KubeconfigSource, load: (kubeConfig: KubeConfig) => void): KubeConfig {
  const kubeConfig = new RuntimeKubeConfig();
  try {
    load(kubeConfig);
  } catch (error) {
    throw new ClusterAccessError(source, `cannot load ${SOURCE_NAMES[source]}: ${errorText(error)}`, error);
  }
  const context = kubeConfig.getCurrentContext();
  if (!context) {
    const names = kubeConfig.getContexts().map((entry) => entry.name);
    throw new ClusterAccessError(
      source,
      `${SOURCE_NAMES[source]} has no current-context` + (names.length ? ` (contexts: ${names.join(", ")})` : " and no contexts"),
    );
  }
  const contextObject = kubeConfig.getContextObject(context);
  if (!contextObject) {
    throw new ClusterAccessError(source, `${SOURCE_NAMES[source]}: current-context "${context}" is not among its contexts`);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new ClusterAccessError(
      source,
      `${SOURCE_NAMES[source]}: context "${context}" names cluster "${contextObject.cluster}", which is not among its clusters`,
    );
  }
  return kubeConfig;
}

/** The cached client set under `key`, else one loaded now and cached. */
function cachedAccess(source: KubeconfigSource, key: string, load: (kubeConfig: KubeConfig) => void): ClusterAccess {
  const cached = clientSets.get(key);
  if (cached) return cached;
  const kubeConfig = loadKubeConfig(source, load);
  const contextObject = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  const server = kubeConfig.getCurrentCluster()?.server ?? "";
  const access: ClusterAccess = {
    key,
    source,
    kubeConfig,
    core: apiClient(kubeConfig, server, CoreV1Api),
    batch: apiClient(kubeConfig, server, BatchV1Api),
    authorization: apiClient(kubeConfig, server, AuthorizationV1Api),
    runObjects: new RunObjectApi(kubeConfig, server),
    currentNamespace: contextObject?.namespace?.trim() || "default",
    server,
  };
  clientSets.set(key, access);
  return access;
}

/**
 * The client set for a kubeconfig the operator chose (tools, tests), with no policy applied; a kubeconfig from an
 * agent's config goes through `configuredClusterAccess`. See the module comment for the order of sources. Throws
 * `ClusterAccessError` naming the source when the credentials cannot be loaded.
 */
export function clusterAccessFor(kubeconfigSetting: string | undefined, options: ClusterAccessOptions = {}): ClusterAccess {
  const { source, key, load } = locate(kubeconfigSetting, options);
  return cachedAccess(source, key, load);
}

/**
 * The client set for the `kubeconfig` value of an agent's config, which is hostile input (see
 * `kubeconfig-policy.ts`): a path must pass the kubeconfig path policy and is read as a regular file of bounded
 * size; the text, from the file or inline, may use credential plugins and name files only as `policy` allows.
 * Checked on every call, before anything is loaded or cached. Without a setting: in-cluster, else default.
 * Throws `ConfigValueError` (`ConfigForbiddenError` when refused) or `ClusterAccessError`.
 */
export async function configuredClusterAccess(
  setting: string | undefined,
  policy: KubeconfigPolicy,
  options: ClusterAccessOptions = {},
): Promise<ClusterAccess> {
  const value = setting?.trim();
  if (!value) return clusterAccessFor(undefined, options);
  if (isInlineKubeconfig(value)) {
    if (value.length > MAX_KUBECONFIG_BYTES) throw new ConfigValueError("kubeconfig", `config.kubeconfig is longer than ${MAX_KUBECONFIG_BYTES} characters`);
    checkKubeconfig(parseKubeconfigText(value), policy, process.cwd());
    return cachedAccess("inline", `inline:${digestOf(value)}`, (kc) => loadText(kc, value, null));
  }
  const file = resolve(expandHome(value));
  // Relative paths inside resolve against the directory of the file read, as `kubectl` does (links resolved).
  const { text, path: realFile } = await readServerFile(policy.files, "kubeconfig", file, MAX_KUBECONFIG_BYTES);
  const baseDir = dirname(realFile);
  const { document, digest } = parsedKubeconfig(text);
  checkKubeconfig(document, policy, baseDir);
  // Keyed by content too: what was checked is what is loaded, even when the file changes later.
  return cachedAccess("file", `file:${file}:${digest}`, (kc) => loadText(kc, text, baseDir));
}

/** Kubeconfig files parsed lately, by their text: every run of an agent reads the same file (`readServerFile`). */
const parsedKubeconfigs = new Map<string, { document: unknown; digest: string }>();
const PARSED_KUBECONFIGS_KEPT = 16;

/** The parsed document (only read by `checkKubeconfig`) and the digest of a kubeconfig's text. */
function parsedKubeconfig(text: string): { document: unknown; digest: string } {
  const known = parsedKubeconfigs.get(text);
  if (known) return known;
  const parsed = { document: parseKubeconfigText(text), digest: digestOf(text) };
  parsedKubeconfigs.set(text, parsed);
  for (const oldest of parsedKubeconfigs.keys()) {
    if (parsedKubeconfigs.size <= PARSED_KUBECONFIGS_KEPT) break;
    parsedKubeconfigs.delete(oldest);
  }
  return parsed;
}

/** Drops cached client sets (all, or the one with this key), so the next call reloads credentials. */
export function forgetClusterAccess(key?: string): void {
  if (key === undefined) clientSets.clear();
  else clientSets.delete(key);
}

/**
 * Per-call options that make a generated API call abortable:
 * `access.batch.listNamespacedJob({ namespace }, abortableCall(signal))`. (The generated
 * methods take no signal themselves; a request middleware puts it on the fetch.)
 */
export function abortableCall(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (request: RequestContext) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}
