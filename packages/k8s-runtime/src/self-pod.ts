import { readFile } from "node:fs/promises";
import path from "node:path";
import type { V1Container, V1LocalObjectReference, V1Pod, V1PodDNSConfig } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import type { RuntimeConfig } from "./config.ts";
import { failedRunResult, type FailedRunResult } from "./errors.ts";
import { describeApiError } from "./retry-policy.ts";

const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The shared ReadWriteMany volume: the agent pod mounts it at the same absolute path as the server. */
export interface SharedVolume {
  claimName: string;
  mountPath: string;
  subPath?: string;
}

/** Where and how agent pods are placed, learned from the Paperclip pod itself or from config. */
export interface Placement {
  namespace: string;
  /** Image of the Paperclip container, the fallback when `image` is not configured. */
  serverImage: string | null;
  sharedVolume: SharedVolume | null;
  imagePullSecrets: V1LocalObjectReference[];
  dnsPolicy?: string;
  dnsConfig?: V1PodDNSConfig;
  /** The Paperclip container's spec: env it receives by reference is passed on by the same reference. */
  serverContainer: V1Container | null;
  /** The server pod's user and group: agent pods default to them so both sides can use the shared files. */
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  /** Where the facts came from, for the run log and the environment test. */
  source: "self-pod" | "config";
}

export interface PlacementSettings {
  namespace?: string;
  sharedVolumeClaim?: string;
  sharedVolumeMountPath?: string;
  instanceRoot: string;
}

/** Reads the Paperclip pod; injected so discovery is testable against any cluster. */
export type PodReader = (namespace: string, name: string) => Promise<V1Pod>;

/** True when this process runs in a Kubernetes pod (service-account namespace file + service host). */
export async function inClusterNamespace(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (!env.KUBERNETES_SERVICE_HOST) return null;
  try {
    return (await readFile(SERVICE_ACCOUNT_NAMESPACE_FILE, "utf8")).trim() || null;
  } catch {
    return null;
  }
}

/** True when `child` is `parent` or lies below it. */
export function isWithin(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/**
 * The volume of `pod` that holds `instanceRoot` in `container`: the deepest mount covering it,
 * which must be a PersistentVolumeClaim for agent pods to share it.
 */
export function findSharedVolume(pod: V1Pod, container: V1Container, instanceRoot: string): SharedVolume | null {
  const covering = (container.volumeMounts ?? [])
    .filter((mount) => isWithin(mount.mountPath, instanceRoot))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!covering) return null;
  const volume = pod.spec?.volumes?.find((candidate) => candidate.name === covering.name);
  const claimName = volume?.persistentVolumeClaim?.claimName;
  if (!claimName) return null;
  return { claimName, mountPath: covering.mountPath, ...(covering.subPath ? { subPath: covering.subPath } : {}) };
}

/** Facts from the Paperclip pod when running in one; `podName` is the pod's HOSTNAME. */
export function placementFromPod(pod: V1Pod, settings: PlacementSettings, containerName?: string): Placement {
  const containers = pod.spec?.containers ?? [];
  const container =
    containers.find((candidate) => candidate.name === containerName) ??
    containers.find((candidate) => findSharedVolume(pod, candidate, settings.instanceRoot)) ??
    containers[0] ??
    null;
  const podSecurity = pod.spec?.securityContext;
  const containerSecurity = container?.securityContext;
  const runAsUser = containerSecurity?.runAsUser ?? podSecurity?.runAsUser;
  const runAsGroup = containerSecurity?.runAsGroup ?? podSecurity?.runAsGroup;
  return {
    namespace: settings.namespace ?? pod.metadata?.namespace ?? "default",
    serverImage: container?.image ?? null,
    sharedVolume: container ? findSharedVolume(pod, container, settings.instanceRoot) : null,
    imagePullSecrets: pod.spec?.imagePullSecrets ?? [],
    ...(pod.spec?.dnsPolicy ? { dnsPolicy: pod.spec.dnsPolicy } : {}),
    ...(pod.spec?.dnsConfig ? { dnsConfig: pod.spec.dnsConfig } : {}),
    serverContainer: container,
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    ...(podSecurity?.fsGroup !== undefined ? { fsGroup: podSecurity.fsGroup } : {}),
    source: "self-pod",
  };
}

/** Facts from config when Paperclip runs outside the cluster. */
export function placementFromConfig(settings: PlacementSettings, defaultNamespace: string): Placement {
  const { sharedVolumeClaim, sharedVolumeMountPath } = settings;
  return {
    namespace: settings.namespace ?? defaultNamespace,
    serverImage: null,
    sharedVolume:
      sharedVolumeClaim && sharedVolumeMountPath ? { claimName: sharedVolumeClaim, mountPath: sharedVolumeMountPath } : null,
    imagePullSecrets: [],
    serverContainer: null,
    source: "config",
  };
}

const placements = new Map<string, Promise<Placement>>();

/**
 * Placement for a cluster: read the Paperclip pod once per cluster and namespace (cached), or take
 * the facts from config outside a cluster. Config values win over discovered ones.
 */
export function discoverPlacement(
  clusterKey: string,
  settings: PlacementSettings,
  readPod: PodReader,
  defaultNamespace: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Placement> {
  const cacheKey = JSON.stringify([clusterKey, settings]);
  let placement = placements.get(cacheKey);
  if (!placement) {
    placement = (async () => {
      const ownNamespace = await inClusterNamespace(env);
      const podName = env.PAPERCLIP_POD_NAME ?? env.HOSTNAME;
      if (!ownNamespace || !podName) return placementFromConfig(settings, defaultNamespace);
      const discovered = placementFromPod(await readPod(ownNamespace, podName), settings, env.PAPERCLIP_CONTAINER_NAME);
      const configured = placementFromConfig(settings, discovered.namespace);
      return { ...discovered, sharedVolume: configured.sharedVolume ?? discovered.sharedVolume };
    })();
    placements.set(cacheKey, placement);
    // A failed discovery is not cached: the next run tries again.
    placement.catch(() => placements.delete(cacheKey));
  }
  return placement;
}

/** Where agent pods go and what they mount, or a failed result saying what is missing. */
export async function resolvePlacement(
  cluster: ClusterAccess,
  config: Pick<RuntimeConfig, "instanceRoot" | "namespace" | "sharedVolume" | "image">,
): Promise<{ placement: Placement; sharedVolume: SharedVolume; image: string } | FailedRunResult> {
  let placement: Placement;
  try {
    placement = await discoverPlacement(
      cluster.key,
      { instanceRoot: config.instanceRoot, ...(config.namespace ? { namespace: config.namespace } : {}) },
      (namespace, name) => cluster.core.readNamespacedPod({ namespace, name }),
      cluster.currentNamespace,
    );
  } catch (error) {
    return failedRunResult("k8s_cluster_unreachable", `Could not read the Paperclip pod: ${describeApiError(error)}`);
  }
  const sharedVolume = config.sharedVolume ?? placement.sharedVolume;
  if (!sharedVolume) {
    return failedRunResult(
      "k8s_shared_volume_unavailable",
      `No shared volume holds the instance root ${config.instanceRoot}: mount a ReadWriteMany PersistentVolumeClaim there in the Paperclip pod, or set sharedVolumeClaim and sharedVolumeMountPath.`,
      { key: "sharedVolumeClaim" },
    );
  }
  const image = config.image ?? placement.serverImage;
  if (!image) return failedRunResult("k8s_config_invalid", "config.image is required: the agent's container image.", { key: "image" });
  return { placement, sharedVolume, image };
}
