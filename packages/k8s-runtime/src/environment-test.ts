import path from "node:path";
import type {
  AdapterEnvironmentCheck,
  AdapterEnvironmentTestContext,
  AdapterEnvironmentTestResult,
} from "@paperclipai/adapter-utils";
import type { AgentDefinition } from "./agent.ts";
import { configuredClusterAccess, type ClusterAccess } from "./cluster-access.ts";
import { ALLOW_LOOPBACK_API_URL_ENV, isLoopbackUrl, parseRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { unknownConfigKeys, unknownKeysWarning } from "./config-keys.ts";
import { ConfigForbiddenError, ConfigValueError } from "./config-values.ts";
import { ALLOW_KUBECONFIG_EXEC_ENV, kubeconfigPolicy } from "./kubeconfig-policy.ts";
import { RUNTIME_PERMISSIONS } from "./permissions.ts";
import { describeApiError } from "./retry-policy.ts";
import { chooseSharedVolume, discoverPlacement, isWithin, type Placement, type SharedVolume } from "./self-pod.ts";
import { ALLOWED_FILE_ROOTS_ENV, resolveServerPath, serverPathPolicy } from "./server-paths.ts";
import { readClaimAccessModes, storageMode } from "./storage-mode.ts";

type Check = AdapterEnvironmentCheck;

const pass = (code: string, message: string): Check => ({ code, level: "info", message });
const warn = (code: string, message: string, hint: string): Check => ({ code, level: "warn", message, hint });
const fail = (code: string, message: string, hint: string): Check => ({ code, level: "error", message, hint });

async function accessChecks(cluster: ClusterAccess, namespace: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const permission of RUNTIME_PERMISSIONS) {
    const denied: string[] = [];
    for (const verb of permission.verbs) {
      const review = await cluster.authorization.createSelfSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: { resourceAttributes: { namespace, group: permission.group, resource: permission.resource, verb } },
        },
      });
      if (!review.status?.allowed) denied.push(verb);
    }
    const resource = permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
    checks.push(
      denied.length === 0
        ? pass(`rbac_${permission.resource}`, `Allowed: ${permission.verbs.join(", ")} ${resource} in ${namespace}`)
        : fail(
            `rbac_${permission.resource}`,
            `Not allowed: ${denied.join(", ")} ${resource} in ${namespace} (needed to ${permission.why})`,
            "Grant the Role from the adapter's README to Paperclip's service account.",
          ),
    );
  }
  return checks;
}

/**
 * Step 14: what Paperclip's "Test environment" button runs; each check names what to fix. `env` is the
 * server's environment (`PAPERCLIP_API_URL`, the JWT secret, the instance root).
 */
export async function testEnvironment(
  agent: Pick<AgentDefinition<unknown>, "type" | "configFields">,
  ctx: AdapterEnvironmentTestContext,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AdapterEnvironmentTestResult> {
  const type = agent.type;
  const checks = [configKeysCheck(ctx.config, agent.configFields), ...(await runChecks(ctx, env))];
  const status = checks.some((check) => check.level === "error")
    ? "fail"
    : checks.some((check) => check.level === "warn")
      ? "warn"
      : "pass";
  return { adapterType: type, status, checks, testedAt: new Date().toISOString() };
}

/** The check a bad value of a config key belongs to: the named checks where there is one. */
const CHECK_OF_KEY: Readonly<Record<string, string>> = { kubeconfig: "kubeconfig", paperclipApiUrl: "api_url", instructionsFilePath: "instructions_file" };

function configKeysCheck(config: Record<string, unknown>, agentFields: readonly { key: string }[]): Check {
  const warning = unknownKeysWarning(unknownConfigKeys(config, agentFields));
  return warning === null
    ? pass("config_keys", "Every config key is known")
    : warn("config_keys", warning, "Fix the spelling (keys are case-sensitive) or remove the keys; the runtime ignores them.");
}

function kubeconfigHint(error: unknown): string {
  return error instanceof ConfigForbiddenError
    ? `Use the in-cluster service account (leave kubeconfig empty) or a kubeconfig with a token; the operator can allow credential plugins (${ALLOW_KUBECONFIG_EXEC_ENV}=true) and file roots (${ALLOWED_FILE_ROOTS_ENV}) on the server.`
    : "Set kubeconfig, or run Paperclip in a pod with a service account.";
}

/**
 * Paperclip does not tell the environment test which agent it is for, so agent-specific roots are those of the
 * agent whose directory the path names (`<ir>/companies/<company>/agents/<agent>/…` or `<ir>/workspaces/<agent>/…`);
 * a run checks against its own agent's.
 */
function agentIdNamedBy(file: string, instanceRoot: string, companyId: string): string | null {
  const [first, second, third, fourth] = path.relative(instanceRoot, path.resolve(file)).split(path.sep);
  if (first === "companies" && second === companyId && third === "agents" && fourth) return fourth;
  if (first === "workspaces" && second) return second;
  return null;
}

function instructionsCheck(config: RuntimeConfig, companyId: string, env: NodeJS.ProcessEnv): Check | null {
  const file = config.instructionsFilePath;
  if (file === undefined) return null;
  const agentId = agentIdNamedBy(file, config.instanceRoot, companyId);
  try {
    resolveServerPath(serverPathPolicy("instructions", { instanceRoot: config.instanceRoot, companyId, agentId, env }), "instructionsFilePath", file);
    return pass("instructions_file", `Instructions file ${file} is under an allowed root`);
  } catch (error) {
    if (!(error instanceof ConfigValueError)) throw error;
    return fail("instructions_file", error.message, `Put the file in the agent's instructions directory or workspace, or have the operator add its directory to ${ALLOWED_FILE_ROOTS_ENV} on the server.`);
  }
}

async function runChecks(ctx: AdapterEnvironmentTestContext, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const parsed = parseRuntimeConfig(ctx.config, env);
  if (!parsed.ok) return [fail(CHECK_OF_KEY[parsed.key] ?? "config_invalid", parsed.message, `Fix config key ${parsed.key}.`)];
  const config: RuntimeConfig = parsed.config;
  const checks: Check[] = [];
  const instructions = instructionsCheck(config, ctx.companyId, env);
  if (instructions !== null) checks.push(instructions);
  let cluster: ClusterAccess;
  try {
    const scope = { instanceRoot: config.instanceRoot, companyId: ctx.companyId, agentId: null, env };
    cluster = await configuredClusterAccess(config.kubeconfig, kubeconfigPolicy(scope));
    checks.push(pass("kubeconfig", `Kubernetes credentials loaded (${cluster.source}, ${cluster.server})`));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return [...checks, fail("kubeconfig", `No usable Kubernetes credentials: ${reason}`, kubeconfigHint(error))];
  }
  const namespace = config.namespace ?? cluster.currentNamespace;
  try {
    await cluster.batch.listNamespacedJob({ namespace, limit: 1 });
    checks.push(pass("namespace", `Namespace ${namespace} is reachable`));
  } catch (error) {
    return [...checks, fail("namespace", `Cannot list Jobs in ${namespace}: ${describeApiError(error)}`, "Check the namespace exists and the API server is reachable.")];
  }
  checks.push(...(await accessChecks(cluster, namespace).catch((error: unknown) => [
    warn("rbac", `Could not review permissions: ${describeApiError(error)}`, "Check that SelfSubjectAccessReview is allowed."),
  ])));

  let placement: Placement | null = null;
  try {
    placement = await discoverPlacement(
      cluster.key,
      { instanceRoot: config.instanceRoot, namespace },
      (podNamespace, name) => cluster.core.readNamespacedPod({ namespace: podNamespace, name }),
      cluster.currentNamespace,
      env,
    );
  } catch (error) {
    checks.push(fail("self_pod", `Could not read the Paperclip pod: ${describeApiError(error)}`, "Allow get on pods in Paperclip's namespace, or configure sharedVolumeClaim, sharedVolumeMountPath and image."));
  }
  const chosen = chooseSharedVolume(placement?.sharedVolume ?? null, config.sharedVolume);
  checks.push(
    ...("problem" in chosen
      ? [fail("shared_volume", chosen.problem, "Remove sharedVolumeClaim and sharedVolumeMountPath from the agent's config: the Paperclip pod (or the server's environment) decides.")]
      : await sharedVolumeChecks(cluster, namespace, chosen.volume, config.instanceRoot, placement?.nodeName)),
  );
  const image = config.image ?? placement?.serverImage ?? null;
  checks.push(image ? pass("image", `Agent image: ${image}`) : fail("image", "No agent image configured", "Set image to an image that contains the agent CLI."));
  checks.push(apiUrlCheck(config.paperclipApiUrl, env));
  checks.push(
    env.PAPERCLIP_AGENT_JWT_SECRET
      ? pass("run_jwt", "Run tokens can be minted (PAPERCLIP_AGENT_JWT_SECRET is set)")
      : warn("run_jwt", "PAPERCLIP_AGENT_JWT_SECRET is not set: runs get no PAPERCLIP_API_KEY", "Set PAPERCLIP_AGENT_JWT_SECRET on the Paperclip server."),
  );
  return checks;
}

/** The shared volume holds the instance root; and the storage mode its access modes put in effect (RWX: any node; RWO: the Paperclip pod's node). */
async function sharedVolumeChecks(
  cluster: ClusterAccess,
  namespace: string,
  volume: SharedVolume | null,
  instanceRoot: string,
  serverNode: string | undefined,
): Promise<Check[]> {
  const hint = "Agent pods mount the same volume: use a claim that holds the instance root (in a pod: mounted there; outside: the server's shared-volume settings).";
  if (!volume) return [fail("shared_volume", `No shared volume holds the instance root ${instanceRoot}`, hint)];
  let accessModes: string[];
  try {
    accessModes = await readClaimAccessModes(cluster, namespace, volume.claimName);
  } catch (error) {
    return [fail("shared_volume", `Cannot read claim ${volume.claimName} in ${namespace}: ${describeApiError(error)}`, `Allow get on persistentvolumeclaims: the runtime reads the claim's access modes to place agent pods.`)];
  }
  const mode = storageMode(volume.claimName, accessModes, serverNode);
  return [
    isWithin(volume.mountPath, instanceRoot)
      ? pass("shared_volume", `Instance root ${instanceRoot} is on claim ${volume.claimName} (${volume.mountPath})`)
      : fail("shared_volume", `Claim ${volume.claimName} does not hold the instance root ${instanceRoot} (mounted at ${volume.mountPath})`, hint),
    mode.usable
      ? pass("storage_mode", mode.explanation)
      : fail("storage_mode", mode.explanation, "Use a ReadWriteMany claim, or run Paperclip in a pod on the cluster so agent pods can share its node."),
  ];
}

function apiUrlCheck(configured: string | undefined, env: NodeJS.ProcessEnv): Check {
  const source = configured !== undefined ? "paperclipApiUrl" : "PAPERCLIP_API_URL";
  const url = configured ?? env.PAPERCLIP_API_URL;
  if (!url) return warn("api_url", "PAPERCLIP_API_URL is not set: agents cannot call Paperclip", "Set paperclipApiUrl to a URL agent pods can reach (the Paperclip Service URL).");
  if (isLoopbackUrl(url) && env[ALLOW_LOOPBACK_API_URL_ENV] === "true") {
    return warn("api_url", `${source} ${url} is a loopback address, allowed by ${ALLOW_LOOPBACK_API_URL_ENV}: only pods on the server's own host reach it`, "Unset it outside a single-host or simulated cluster.");
  }
  if (isLoopbackUrl(url)) {
    return fail("api_url", `${source} ${url} is a loopback address that agent pods cannot reach`, "Set paperclipApiUrl to the Paperclip Service URL, e.g. http://paperclip.<namespace>.svc:3100.");
  }
  return pass("api_url", `Agent pods call Paperclip at ${url}`);
}
