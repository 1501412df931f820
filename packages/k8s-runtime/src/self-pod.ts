import { readFile } from "node:fs/promises";
import path from "node:path";
import type { V1Container, V1LocalObjectReference, V1Pod, V1PodDNSConfig } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";
import type { RuntimeConfig } from "./config.ts";
import { failedRunResult, type FailedRunResult } from "./errors.ts";
import { describeApiError } from "./retry-policy.ts";
import { readClaimAccessModes, storageMode } from "./storage-mode.ts";

const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The shared ReadWriteMany volume: the agent pod mounts it at the same absolute path as the server. */
export interface SharedVolume {
  claimName: string;
  mountPath: string;
  subPath?: string;
  /** Set when the claim attaches to one node at a time (ReadWriteOnce): the node agent pods must run on. */
  attachedNode?: string;
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
  /** The node the Paperclip pod runs on (a ReadWriteOnce claim is attached there). */
  nodeName?: string;
  /** Where the facts came from, for the run log and the environment test. */
  source: "self-pod" | "config";
}

export interface PlacementSettings {
  namespace?: string;
  instanceRoot: string;
}

/**
 * Server environment naming the shared volume when Paperclip does not run in a pod (in a pod it is read from
 * the pod). The volume is the server's setting: agent config may repeat it, never change it.
 */
export const SHARED_VOLUME_CLAIM_ENV = "PAPERCLIP_K8S_SHARED_VOLUME_CLAIM";
export const SHARED_VOLUME_MOUNT_PATH_ENV = "PAPERCLIP_K8S_SHARED_VOLUME_MOUNT_PATH";

/** The shared volume the server's environment names, or null. */
export function sharedVolumeFromEnv(env: NodeJS.ProcessEnv): SharedVolume | null {
  const claimName = env[SHARED_VOLUME_CLAIM_ENV]?.trim();
  const mountPath = env[SHARED_VOLUME_MOUNT_PATH_ENV]?.trim();
  return claimName && mountPath && path.isAbsolute(mountPath) ? { claimName, mountPath: path.resolve(mountPath) } : null;
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
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    source: "self-pod",
  };
}

/** Facts from the server's environment when Paperclip runs outside the cluster. */
export function placementFromEnv(settings: PlacementSettings, defaultNamespace: string, env: NodeJS.ProcessEnv): Placement {
  return {
    namespace: settings.namespace ?? defaultNamespace,
    serverImage: null,
    sharedVolume: sharedVolumeFromEnv(env),
    imagePullSecrets: [],
    serverContainer: null,
    source: "config",
  };
}

const placements = new Map<string, Promise<Placement>>();

/**
 * Placement for a cluster: read the Paperclip pod once per cluster and namespace (cached), or take
 * the facts from the server's environment outside a cluster.
 */
export async function discoverPlacement(
  clusterKey: string,
  settings: PlacementSettings,
  readPod: PodReader,
  defaultNamespace: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Placement> {
  const ownNamespace = await inClusterNamespace(env);
  const podName = env.PAPERCLIP_POD_NAME ?? env.HOSTNAME;
  // Outside a pod the facts come from the environment, which is cheap to read every time.
  if (!ownNamespace || !podName) return placementFromEnv(settings, defaultNamespace, env);
  const cacheKey = JSON.stringify([clusterKey, settings, ownNamespace, podName]);
  let placement = placements.get(cacheKey);
  if (!placement) {
    placement = readPod(ownNamespace, podName).then((pod) => placementFromPod(pod, settings, env.PAPERCLIP_CONTAINER_NAME));
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
): Promise<{ placement: Placement; sharedVolume: SharedVolume; image: string; notes: string[] } | FailedRunResult> {
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
  const chosen = chooseSharedVolume(placement.sharedVolume, config.sharedVolume);
  if ("problem" in chosen) return failedRunResult("k8s_config_forbidden", chosen.problem, { key: "sharedVolumeClaim" });
  const sharedVolume = chosen.volume;
  if (!sharedVolume) {
    return failedRunResult(
      "k8s_shared_volume_unavailable",
      `No shared volume holds the instance root ${config.instanceRoot}: mount a ReadWriteMany PersistentVolumeClaim there in the Paperclip pod, or set ${SHARED_VOLUME_CLAIM_ENV} and ${SHARED_VOLUME_MOUNT_PATH_ENV} in the server's environment.`,
      { key: "sharedVolumeClaim" },
    );
  }
  const image = config.image ?? placement.serverImage;
  if (!image) return failedRunResult("k8s_config_invalid", "config.image is required: the agent's container image.", { key: "image" });
  const placed = await placeOnStorage(cluster, placement, sharedVolume);
  return { placement, sharedVolume: placed.volume, image, notes: placed.notes };
}

/**
 * In a pod, reads the claim's access modes (cached) to learn whether agent pods must share the Paperclip pod's
 * node (ReadWriteOnce). Outside a pod there is no server node to share: the volume is used as configured, and
 * the environment test says whether that can work.
 */
async function placeOnStorage(cluster: ClusterAccess, placement: Placement, volume: SharedVolume): Promise<{ volume: SharedVolume; notes: string[] }> {
  if (placement.source !== "self-pod") return { volume, notes: [] };
  let accessModes: string[];
  try {
    accessModes = await readClaimAccessModes(cluster, placement.namespace, volume.claimName);
  } catch (error) {
    return {
      volume,
      notes: [
        `Could not read claim ${volume.claimName} (${describeApiError(error)}); agent pods may run on any node. If the claim is ReadWriteOnce, a pod on another node waits on a Multi-Attach error: allow get on persistentvolumeclaims.`,
      ],
    };
  }
  const mode = storageMode(volume.claimName, accessModes, placement.nodeName);
  return { volume: mode.agentNode === null ? volume : { ...volume, attachedNode: mode.agentNode }, notes: mode.agentNode === null ? [] : [`${mode.explanation}.`] };
}

/**
 * The shared volume decides which directories agent pods mount, so it is the server's (its pod, else its
 * environment): agent config, which agents can write, may only repeat it. Without a server value, config is
 * used as it is (a lab set-up outside a cluster; the environment test warns).
 */
export function chooseSharedVolume(
  server: SharedVolume | null,
  configured: { claimName: string; mountPath: string } | undefined,
): { volume: SharedVolume | null } | { problem: string } {
  if (!server || !configured) return { volume: server ?? configured ?? null };
  const same = configured.claimName === server.claimName && path.resolve(configured.mountPath) === path.resolve(server.mountPath);
  return same
    ? { volume: server }
    : {
        problem: `config sharedVolumeClaim/sharedVolumeMountPath (${configured.claimName} at ${configured.mountPath}) differ from the server's shared volume (${server.claimName} at ${server.mountPath}); agent config may not choose what agent pods mount`,
      };
}
