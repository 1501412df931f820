/**
 * The runtime's part of an agent's adapter config (`ctx.config`), parsed once into a typed, validated object with
 * defaults applied. Other keys are left alone here (agents carry their own keys in the same object);
 * `config-keys.ts` reports the ones nobody knows.
 */
import { BlockList, isIP } from "node:net";
import path from "node:path";
import type { V1Toleration } from "@kubernetes/client-node";
import { resolvePaperclipInstanceRootForAdapter } from "@paperclipai/adapter-utils/server-utils";
import {
  configErrorCode,
  ConfigForbiddenError,
  ConfigValueError,
  fail,
  isUnset,
  readAbsolutePath,
  readBoolean,
  MAX_TIMER_SECONDS,
  readChecked,
  readNumber,
  readPositiveSeconds,
  readString,
  readStringList,
  show,
  splitShellWords,
} from "./config-values.ts";
import {
  readEnv,
  readNodeSelector,
  readResources,
  readTolerations,
  readUserLabels,
  type ResourceSettings,
} from "./config-kubernetes.ts";
import { isDns1123Label, isDns1123Subdomain } from "./k8s-syntax.ts";
import { inheritEntryProblem } from "./pod-env.ts";

export const IMAGE_PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];


/** Defaults of the keys that have one. */
export const RUNTIME_CONFIG_DEFAULTS = {
  timeoutSec: 0,
  graceSec: 15,
  retainJobs: false,
  reattachOrphanedJobs: true,
  ttlSecondsAfterFinished: 3600,
  // As Paperclip's local adapters: a headless run cannot answer permission prompts.
  dangerouslySkipPermissions: true,
  scheduleTimeoutSec: 300,
  startupTimeoutSec: 600,
  imagePullGraceSec: 60,
  keepaliveSec: 30,
} as const;

export interface RuntimeConfig {
  /** Namespace of the agent's Jobs; undefined → the Paperclip pod's namespace, else "default" (resolved by the caller). */
  readonly namespace: string | undefined;
  readonly image: string | undefined;
  /** Undefined → Kubernetes' default. */
  readonly imagePullPolicy: ImagePullPolicy | undefined;
  /** Added to the Paperclip pod's own pull secrets (self-pod discovery). */
  readonly imagePullSecrets: readonly string[];
  /** A kubeconfig file path or the kubeconfig's text (`clusterAccessFor` tells them apart); undefined → in-cluster, else default. */
  readonly kubeconfig: string | undefined;
  readonly serviceAccountName: string | undefined;
  readonly model: string | undefined;
  readonly extraArgs: readonly string[];
  /** Config `env`: travels in the per-run Secret. */
  readonly env: Readonly<Record<string, string>>;
  /** 0 = no limit. */
  readonly timeoutSec: number;
  readonly graceSec: number;
  readonly retainJobs: boolean;
  readonly reattachOrphanedJobs: boolean;
  readonly ttlSecondsAfterFinished: number;
  readonly resources: ResourceSettings | undefined;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly tolerations: readonly V1Toleration[];
  /** Working directory of the agent in its pod (absolute). */
  readonly cwd: string | undefined;
  readonly promptTemplate: string | undefined;
  readonly bootstrapPromptTemplate: string | undefined;
  readonly instructionsFilePath: string | undefined;
  readonly dangerouslySkipPermissions: boolean;
  /** Extra env names, `PREFIX_*` patterns, `secretRef:<name>` / `configMapRef:<name>` to pass on from the server. */
  readonly inheritEnv: readonly string[];
  readonly scheduleTimeoutSec: number;
  readonly startupTimeoutSec: number;
  readonly imagePullGraceSec: number;
  readonly keepaliveSec: number;
  /** Undefined → the Paperclip pod's user, else the caller's default (never 0). */
  readonly runAsUser: number | undefined;
  /** Undefined → the Paperclip pod's group, else runAsUser. */
  readonly runAsGroup: number | undefined;
  readonly fsGroup: number | undefined;
  /** The RWX volume holding the instance root; undefined → self-pod discovery finds it. */
  readonly sharedVolume: { readonly claimName: string; readonly mountPath: string } | undefined;
  /** Paperclip's instance root: config `instanceRoot`, else `resolvePaperclipInstanceRootForAdapter()`. */
  readonly instanceRoot: string;
  /** `PAPERCLIP_API_URL` for agent pods; undefined → the server's own. */
  readonly paperclipApiUrl: string | undefined;
  /** Keep a failed run's files this long before deleting them; undefined → delete with the Job. */
  readonly retainRunFilesOnFailureSec: number | undefined;
}

export type RuntimeConfigResult =
  | { ok: true; config: RuntimeConfig }
  | { ok: false; key: string; message: string; errorCode: "k8s_config_invalid" | "k8s_config_forbidden" };

function readKubeconfig(raw: unknown, key: string): string | undefined {
  if (isUnset(raw)) return undefined;
  return typeof raw === "string" ? raw : fail(key, key, "a file path or kubeconfig YAML/JSON text", raw);
}

function readImagePullPolicy(raw: unknown, key: string): ImagePullPolicy | undefined {
  const value = readString(raw, key);
  if (value === undefined) return undefined;
  const policy = IMAGE_PULL_POLICIES.find((candidate) => candidate === value);
  return policy ?? fail(key, key, "Always, IfNotPresent or Never", value);
}

function readNameList(raw: unknown, key: string): string[] | undefined {
  // Also accept Kubernetes' own shape: [{ name: "regcred" }].
  const names = Array.isArray(raw)
    ? raw.map((item: unknown) => (typeof item === "object" && item !== null && "name" in item ? item.name : item))
    : raw;
  const list = readStringList(names, key);
  list?.forEach((name, index) => {
    if (!isDns1123Subdomain(name)) fail(key, `${key}[${index}]`, "a Secret name (lower case DNS subdomain)", name);
  });
  return list;
}

function readExtraArgs(raw: unknown, key: string): string[] | undefined {
  if (isUnset(raw)) return undefined;
  if (typeof raw === "string") return splitShellWords(raw, key);
  if (!Array.isArray(raw)) return fail(key, key, "a list of strings or a command-line string", raw);
  return raw.map((item, index) => (typeof item === "string" ? item : fail(key, `${key}[${index}]`, "a string", item)));
}

function readInheritEnv(raw: unknown, key: string): string[] | undefined {
  const entries = readStringList(raw, key);
  entries?.forEach((entry, index) => {
    const problem = inheritEntryProblem(entry);
    if (problem !== null) throw new ConfigValueError(key, `config.${key}[${index}] is refused: ${problem}`);
  });
  return entries;
}

function readRunAsUser(raw: unknown, key: string): number | undefined {
  const value = readNumber(raw, key, { integer: true });
  if (value === 0) throw new ConfigValueError(key, `config.${key} must not be 0: agent pods run as a non-root user`);
  return value;
}

/** Server env that lets agent pods use a loopback Paperclip URL: only where pods share the server's host (the simulated cluster). */
export const ALLOW_LOOPBACK_API_URL_ENV = "PAPERCLIP_K8S_ALLOW_LOOPBACK_API_URL";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
// 0.0.0.0 reaches the local host on Linux.
LOOPBACK.addSubnet("0.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");
LOOPBACK.addAddress("::", "ipv6");
LOOPBACK.addSubnet("::ffff:127.0.0.0", 104, "ipv6");
LOOPBACK.addSubnet("::ffff:0.0.0.0", 104, "ipv6");

/** Whether `url` names this host: `localhost` (and `*.localhost`), 127.0.0.0/8, 0.0.0.0, `::1`, and their IPv4-mapped forms. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  } catch {
    return false;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const family = isIP(host);
  return family === 4 ? LOOPBACK.check(host, "ipv4") : family === 6 ? LOOPBACK.check(host, "ipv6") : false;
}

function readPaperclipApiUrl(raw: unknown, key: string, env: NodeJS.ProcessEnv): string | undefined {
  const value = readString(raw, key);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(key, key, "an http(s) URL", value);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(key, key, "an http(s) URL", value);
  if (isLoopbackUrl(value) && env[ALLOW_LOOPBACK_API_URL_ENV] !== "true") {
    throw new ConfigValueError(
      key,
      `config.${key} ${show(value)} is a loopback address: agent pods run on other hosts and cannot reach it; use the Paperclip Service URL`,
    );
  }
  return value.replace(/\/+$/, "");
}

function readSharedVolume(claimRaw: unknown, pathRaw: unknown): RuntimeConfig["sharedVolume"] {
  const claimName = readChecked(claimRaw, "sharedVolumeClaim", "a PersistentVolumeClaim name (lower case DNS subdomain)", isDns1123Subdomain);
  const mountPath = readAbsolutePath(pathRaw, "sharedVolumeMountPath");
  if (claimName === undefined && mountPath === undefined) return undefined;
  if (claimName === undefined) throw new ConfigValueError("sharedVolumeClaim", "config.sharedVolumeClaim must be set when sharedVolumeMountPath is");
  if (mountPath === undefined) throw new ConfigValueError("sharedVolumeMountPath", "config.sharedVolumeMountPath must be set when sharedVolumeClaim is");
  return { claimName, mountPath };
}

/**
 * Paperclip's own instance root: run directories go under it, and the reaper sweeps it. Agent config (which
 * agents can write) may repeat it but not move it elsewhere on the server's disk.
 */
function readInstanceRoot(raw: unknown, env: NodeJS.ProcessEnv): string {
  const configured = readAbsolutePath(raw, "instanceRoot");
  const own = defaultInstanceRoot(env);
  if (configured === undefined || path.resolve(configured) === path.resolve(own)) return own;
  throw new ConfigForbiddenError(
    "instanceRoot",
    `config.instanceRoot ${show(configured)} differs from Paperclip's own instance root ${own} (from PAPERCLIP_HOME and PAPERCLIP_INSTANCE_ID); agent config may not move where run files are written`,
  );
}

function defaultInstanceRoot(env: NodeJS.ProcessEnv): string {
  try {
    return resolvePaperclipInstanceRootForAdapter({ env });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigValueError("instanceRoot", `config.instanceRoot is not set and Paperclip's instance root cannot be resolved: ${reason}`);
  }
}

function buildConfig(raw: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): RuntimeConfig {
  const defaults = RUNTIME_CONFIG_DEFAULTS;
  return {
    namespace: readChecked(raw.namespace, "namespace", "a namespace name (lower case DNS label)", isDns1123Label),
    image: readChecked(raw.image, "image", "an image reference without spaces", (value) => !/\s/.test(value)),
    imagePullPolicy: readImagePullPolicy(raw.imagePullPolicy, "imagePullPolicy"),
    imagePullSecrets: readNameList(raw.imagePullSecrets, "imagePullSecrets") ?? [],
    kubeconfig: readKubeconfig(raw.kubeconfig, "kubeconfig"),
    serviceAccountName: readChecked(raw.serviceAccountName, "serviceAccountName", "a service account name (lower case DNS subdomain)", isDns1123Subdomain),
    model: readString(raw.model, "model"),
    extraArgs: readExtraArgs(raw.extraArgs, "extraArgs") ?? [],
    env: readEnv(raw.env, "env") ?? {},
    // activeDeadlineSeconds and terminationGracePeriodSeconds: whole seconds (rounded up), at most int32.
    timeoutSec: readNumber(raw.timeoutSec, "timeoutSec") ?? defaults.timeoutSec,
    graceSec: readNumber(raw.graceSec, "graceSec") ?? defaults.graceSec,
    retainJobs: readBoolean(raw.retainJobs, "retainJobs") ?? defaults.retainJobs,
    reattachOrphanedJobs: readBoolean(raw.reattachOrphanedJobs, "reattachOrphanedJobs") ?? defaults.reattachOrphanedJobs,
    ttlSecondsAfterFinished: readNumber(raw.ttlSecondsAfterFinished, "ttlSecondsAfterFinished", { integer: true }) ?? defaults.ttlSecondsAfterFinished,
    resources: readResources(raw.resources, "resources"),
    nodeSelector: readNodeSelector(raw.nodeSelector, "nodeSelector") ?? {},
    labels: readUserLabels(raw.labels, "labels") ?? {},
    tolerations: readTolerations(raw.tolerations, "tolerations") ?? [],
    cwd: readAbsolutePath(raw.cwd, "cwd"),
    promptTemplate: readString(raw.promptTemplate, "promptTemplate"),
    bootstrapPromptTemplate: readString(raw.bootstrapPromptTemplate, "bootstrapPromptTemplate"),
    instructionsFilePath: readString(raw.instructionsFilePath, "instructionsFilePath"),
    dangerouslySkipPermissions: readBoolean(raw.dangerouslySkipPermissions, "dangerouslySkipPermissions") ?? defaults.dangerouslySkipPermissions,
    inheritEnv: readInheritEnv(raw.inheritEnv, "inheritEnv") ?? [],
    // These four are waited for with Node timers, whose delay is a 32-bit count of milliseconds.
    scheduleTimeoutSec: readPositiveSeconds(raw.scheduleTimeoutSec, "scheduleTimeoutSec", MAX_TIMER_SECONDS) ?? defaults.scheduleTimeoutSec,
    startupTimeoutSec: readPositiveSeconds(raw.startupTimeoutSec, "startupTimeoutSec", MAX_TIMER_SECONDS) ?? defaults.startupTimeoutSec,
    imagePullGraceSec: readNumber(raw.imagePullGraceSec, "imagePullGraceSec", { max: MAX_TIMER_SECONDS }) ?? defaults.imagePullGraceSec,
    keepaliveSec: readPositiveSeconds(raw.keepaliveSec, "keepaliveSec", MAX_TIMER_SECONDS) ?? defaults.keepaliveSec,
    runAsUser: readRunAsUser(raw.runAsUser, "runAsUser"),
    runAsGroup: readNumber(raw.runAsGroup, "runAsGroup", { integer: true }),
    fsGroup: readNumber(raw.fsGroup, "fsGroup", { integer: true }),
    sharedVolume: readSharedVolume(raw.sharedVolumeClaim, raw.sharedVolumeMountPath),
    instanceRoot: readInstanceRoot(raw.instanceRoot, env),
    paperclipApiUrl: readPaperclipApiUrl(raw.paperclipApiUrl, "paperclipApiUrl", env),
    retainRunFilesOnFailureSec: readNumber(raw.retainRunFilesOnFailureSec, "retainRunFilesOnFailureSec"),
  };
}

/**
 * Parses the runtime's keys of `ctx.config`. A bad value gives `{ ok: false }` with the key and a message naming the
 * value. `env` (default `process.env`) locates Paperclip's instance root when config does not set it.
 */
export function parseRuntimeConfig(raw: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): RuntimeConfigResult {
  try {
    return { ok: true, config: buildConfig(raw, env) };
  } catch (error) {
    if (error instanceof ConfigValueError) return { ok: false, key: error.key, message: error.message, errorCode: configErrorCode(error) };
    throw error;
  }
}
