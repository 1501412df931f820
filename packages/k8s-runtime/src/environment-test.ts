import { isIP } from "node:net";
import type {
  AdapterEnvironmentCheck,
  AdapterEnvironmentTestContext,
  AdapterEnvironmentTestResult,
} from "@paperclipai/adapter-utils";
import { clusterAccessFor, type ClusterAccess } from "./cluster-access.ts";
import { parseRuntimeConfig, type RuntimeConfig } from "./config.ts";
import { RUNTIME_PERMISSIONS } from "./permissions.ts";
import { describeApiError } from "./retry-policy.ts";
import { discoverPlacement, isWithin, type Placement, type SharedVolume } from "./self-pod.ts";

type Check = AdapterEnvironmentCheck;

const pass = (code: string, message: string): Check => ({ code, level: "info", message });
const warn = (code: string, message: string, hint: string): Check => ({ code, level: "warn", message, hint });
const fail = (code: string, message: string, hint: string): Check => ({ code, level: "error", message, hint });

function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return false;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

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
  type: string,
  ctx: AdapterEnvironmentTestContext,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AdapterEnvironmentTestResult> {
  const checks = await runChecks(ctx.config, env);
  const status = checks.some((check) => check.level === "error")
    ? "fail"
    : checks.some((check) => check.level === "warn")
      ? "warn"
      : "pass";
  return { adapterType: type, status, checks, testedAt: new Date().toISOString() };
}

async function runChecks(rawConfig: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const parsed = parseRuntimeConfig(rawConfig, env);
  if (!parsed.ok) return [fail("config_invalid", parsed.message, `Fix config key ${parsed.key}.`)];
  const config: RuntimeConfig = parsed.config;
  const checks: Check[] = [];
  let cluster: ClusterAccess;
  try {
    cluster = clusterAccessFor(config.kubeconfig);
    checks.push(pass("kubeconfig", `Kubernetes credentials loaded (${cluster.source}, ${cluster.server})`));
  } catch (error) {
    return [fail("kubeconfig", `No usable Kubernetes credentials: ${String(error)}`, "Set kubeconfig, or run Paperclip in a pod with a service account.")];
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
  const volume = config.sharedVolume ?? placement?.sharedVolume ?? null;
  checks.push(await sharedVolumeCheck(cluster, namespace, volume, config.instanceRoot));
  const image = config.image ?? placement?.serverImage ?? null;
  checks.push(image ? pass("image", `Agent image: ${image}`) : fail("image", "No agent image configured", "Set image to an image that contains the agent CLI."));
  checks.push(apiUrlCheck(config.paperclipApiUrl, env.PAPERCLIP_API_URL));
  checks.push(
    env.PAPERCLIP_AGENT_JWT_SECRET
      ? pass("run_jwt", "Run tokens can be minted (PAPERCLIP_AGENT_JWT_SECRET is set)")
      : warn("run_jwt", "PAPERCLIP_AGENT_JWT_SECRET is not set: runs get no PAPERCLIP_API_KEY", "Set PAPERCLIP_AGENT_JWT_SECRET on the Paperclip server."),
  );
  return checks;
}

async function sharedVolumeCheck(cluster: ClusterAccess, namespace: string, volume: SharedVolume | null, instanceRoot: string): Promise<Check> {
  const hint = "Agent pods on other nodes must mount the same volume: use a ReadWriteMany claim that holds the instance root (sharedVolumeClaim, sharedVolumeMountPath).";
  if (!volume) return fail("shared_volume", `No shared volume holds the instance root ${instanceRoot}`, hint);
  let accessModes: string[];
  try {
    const claim = await cluster.core.readNamespacedPersistentVolumeClaim({ namespace, name: volume.claimName });
    accessModes = claim.spec?.accessModes ?? [];
  } catch (error) {
    return fail("shared_volume", `Cannot read claim ${volume.claimName} in ${namespace}: ${describeApiError(error)}`, `${hint} Allow get on persistentvolumeclaims.`);
  }
  const problems = [
    ...(accessModes.includes("ReadWriteMany") ? [] : [`is not ReadWriteMany (access modes: ${accessModes.join(", ") || "none"})`]),
    ...(isWithin(volume.mountPath, instanceRoot) ? [] : [`does not hold the instance root ${instanceRoot} (mounted at ${volume.mountPath})`]),
  ];
  return problems.length === 0
    ? pass("shared_volume", `Instance root ${instanceRoot} is on ReadWriteMany claim ${volume.claimName} (${volume.mountPath})`)
    : fail("shared_volume", `Claim ${volume.claimName} ${problems.join(" and ")}`, hint);
}

function apiUrlCheck(configured: string | undefined, serverEnv: string | undefined): Check {
  const source = configured !== undefined ? "paperclipApiUrl" : "PAPERCLIP_API_URL";
  const url = configured ?? serverEnv;
  if (!url) return warn("api_url", "PAPERCLIP_API_URL is not set: agents cannot call Paperclip", "Set paperclipApiUrl to a URL agent pods can reach (the Paperclip Service URL).");
  if (isLoopbackUrl(url)) {
    return fail("api_url", `${source} ${url} is a loopback address that agent pods cannot reach`, "Set paperclipApiUrl to the Paperclip Service URL, e.g. http://paperclip.<namespace>.svc:3100.");
  }
  return pass("api_url", `Agent pods call Paperclip at ${url}`);
}
