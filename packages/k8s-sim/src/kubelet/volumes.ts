import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { chmod, mkdir, rm, writeFile as writeFileContent } from "node:fs/promises";
import path from "node:path";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { configNotFoundMessage, readConfigData } from "./config-data.ts";
import type { ContainerView, KeyToPath, PodView, ProjectionSource } from "./pod-spec.ts";
import { readFieldPath } from "./pod-spec.ts";

/** A volume cannot be set up yet (`FailedMount`); the kubelet retries. */
export class VolumeSetupError extends Error {}

/** A host directory (or file) bind-mounted into a container's mount namespace. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

const WORLD_WRITABLE = 0o777;

/** The host directory behind a PersistentVolumeClaim: one per claim, shared by every pod using it. */
export function pvcHostPath(rootDir: string, namespace: string, claimName: string): string {
  return path.join(rootDir, "pvcs", namespace, claimName);
}

/** The kubelet's per-pod host directory (volumes, termination message files); removed with the pod. */
export function podHostDir(rootDir: string, podUid: string): string {
  return path.join(rootDir, "pods", podUid);
}

function relativeInside(base: string, relative: string, what: string): string {
  if (path.isAbsolute(relative) || relative.split("/").includes("..")) {
    throw new VolumeSetupError(`${what} "${relative}" must be a relative path without '..'`);
  }
  return path.join(base, relative);
}

type ConfigSource = { kind: "secret" | "configMap"; name: string; items?: KeyToPath[]; optional: boolean };

async function writeFile(dir: string, relative: string, content: string | Buffer, mode: number): Promise<void> {
  const file = relativeInside(dir, relative, "item path");
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  await writeFileContent(file, content);
  await chmod(file, mode);
}

/** Writes a Secret's or ConfigMap's keys (or the chosen `items`) as files into `dir`. */
async function writeConfigFiles(store: ObjectStore, pod: PodView, volumeName: string, source: ConfigSource, dir: string, defaultMode: number): Promise<void> {
  const kind = source.kind === "secret" ? "Secret" : "ConfigMap";
  const data = readConfigData(store, pod.namespace, kind, source.name);
  if (!data) {
    if (source.optional) return;
    throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volumeName}" : ${configNotFoundMessage(kind, source.name)}`);
  }
  const files = source.items ?? [...data.keys()].map((key) => ({ key, path: key, mode: undefined }));
  for (const item of files) {
    const content = data.get(item.key);
    if (content === undefined) {
      if (source.optional) continue;
      const lower = source.kind === "secret" ? "secret" : "configmap";
      throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volumeName}" : ${lower} references non-existent ${lower === "secret" ? "secret" : "config"} key: ${item.key}`);
    }
    await writeFile(dir, item.path, content, item.mode ?? defaultMode);
  }
}

async function freshDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
}

/** A world-writable directory (emptyDir, a claim's directory), created if missing. */
async function worldWritableDir(dir: string): Promise<void> {
  // A recursive mkdir names what it created: nothing when the directory was there already.
  if ((await mkdir(dir, { recursive: true })) !== undefined) await chmod(dir, WORLD_WRITABLE);
}

/** What a pod's volumes may draw on beyond the store: the pod object (downward API) and the token issuer. */
export interface VolumeSources {
  object: K8sObject;
  tokens: ServiceAccountTokens | undefined;
}

async function writeProjection(store: ObjectStore, pod: PodView, volumeName: string, source: ProjectionSource, dir: string, defaultMode: number, from: VolumeSources): Promise<void> {
  switch (source.kind) {
    case "secret":
    case "configMap":
      await writeConfigFiles(store, pod, volumeName, source, dir, defaultMode);
      return;
    case "downwardAPI":
      for (const item of source.items) await writeFile(dir, item.path, readFieldPath(from.object, item.fieldPath) ?? "", item.mode ?? defaultMode);
      return;
    case "serviceAccountToken": {
      const account = store.get("serviceaccounts", pod.namespace, pod.serviceAccountName);
      if (!account?.metadata.uid || !from.tokens) {
        throw new VolumeSetupError(`MountVolume.SetUp failed for volume "${volumeName}" : failed to fetch token: serviceaccounts "${pod.serviceAccountName}" not found`);
      }
      const token = from.tokens.mint(
        { namespace: pod.namespace, serviceAccount: { name: pod.serviceAccountName, uid: account.metadata.uid }, pod: { name: pod.name, uid: pod.uid } },
        source.expirationSeconds,
      );
      await writeFile(dir, source.path, token, defaultMode);
      return;
    }
  }
}

/**
 * Sets up every volume of a pod on the host: emptyDir (fresh, world-writable as Kubernetes makes
 * it), secret/configMap projections (`items`, `defaultMode`), PVC directories (created on demand). The files are
 * written off the event loop: a start-up storm of pods must not stall the API server.
 */
export async function preparePodVolumes(store: ObjectStore, rootDir: string, pod: PodView, from: VolumeSources): Promise<Map<string, PreparedVolume>> {
  const prepared = new Map<string, PreparedVolume>();
  const volumesDir = path.join(podHostDir(rootDir, pod.uid), "volumes");
  for (const volume of pod.volumes) {
    const source = volume.source;
    const dir = path.join(volumesDir, volume.name);
    switch (source.kind) {
      case "emptyDir":
        await worldWritableDir(dir);
        prepared.set(volume.name, { hostPath: dir, readOnly: false });
        break;
      case "secret":
      case "configMap":
        await freshDir(dir);
        await writeConfigFiles(store, pod, volume.name, source, dir, source.defaultMode);
        // Kubernetes always mounts these read-only.
        prepared.set(volume.name, { hostPath: dir, readOnly: true });
        break;
      case "persistentVolumeClaim": {
        const claimDir = pvcHostPath(rootDir, pod.namespace, source.claimName);
        await worldWritableDir(claimDir);
        prepared.set(volume.name, { hostPath: claimDir, readOnly: source.readOnly });
        break;
      }
      case "projected":
        await freshDir(dir);
        for (const projection of source.sources) await writeProjection(store, pod, volume.name, projection, dir, source.defaultMode, from);
        prepared.set(volume.name, { hostPath: dir, readOnly: true });
        break;
      case "hostPath":
        prepared.set(volume.name, { hostPath: source.path, readOnly: false });
        break;
    }
  }
  return prepared;
}

/** The bind mounts of one container: its volumeMounts resolved to host paths (with subPath), plus the termination message file. */
export function containerBindMounts(
  container: ContainerView,
  volumes: ReadonlyMap<string, PreparedVolume>,
  terminationMessageFile: string,
): BindMount[] {
  const mounts: BindMount[] = container.volumeMounts.map((mount) => {
    const volume = volumes.get(mount.name);
    if (!volume) throw new VolumeSetupError(`volumeMounts "${mount.name}": no volume of that name in the pod`);
    let source = volume.hostPath;
    if (mount.subPath !== undefined) {
      source = relativeInside(volume.hostPath, mount.subPath, "subPath");
      // The kubelet creates a missing subPath as a directory.
      if (!existsSync(source)) {
        mkdirSync(source, { recursive: true });
        chmodSync(source, WORLD_WRITABLE);
      }
    }
    return { source, target: mount.mountPath, readOnly: mount.readOnly || volume.readOnly };
  });
  mounts.push({ source: terminationMessageFile, target: container.terminationMessagePath, readOnly: false });
  return mounts;
}
