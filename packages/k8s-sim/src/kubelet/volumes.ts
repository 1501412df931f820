import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
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

interface PreparedVolume {
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

function writeFile(dir: string, relative: string, content: string | Buffer, mode: number): void {
  const file = relativeInside(dir, relative, "item path");
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, content);
  chmodSync(file, mode);
}

/** Writes a Secret's or ConfigMap's keys (or the chosen `items`) as files into `dir`. */
function writeConfigFiles(store: ObjectStore, pod: PodView, volumeName: string, source: ConfigSource, dir: string, defaultMode: number): void {
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
    writeFile(dir, item.path, content, item.mode ?? defaultMode);
  }
}

function freshDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
}

/** What a pod's volumes may draw on beyond the store: the pod object (downward API) and the token issuer. */
export interface VolumeSources {
  object: K8sObject;
  tokens: ServiceAccountTokens | undefined;
}

function writeProjection(store: ObjectStore, pod: PodView, volumeName: string, source: ProjectionSource, dir: string, defaultMode: number, from: VolumeSources): void {
  switch (source.kind) {
    case "secret":
    case "configMap":
      writeConfigFiles(store, pod, volumeName, source, dir, defaultMode);
      return;
    case "downwardAPI":
      for (const item of source.items) writeFile(dir, item.path, readFieldPath(from.object, item.fieldPath) ?? "", item.mode ?? defaultMode);
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
      writeFile(dir, source.path, token, defaultMode);
      return;
    }
  }
}

/**
 * Sets up every volume of a pod on the host: emptyDir (fresh, world-writable as Kubernetes makes
 * it), secret/configMap projections (`items`, `defaultMode`), PVC directories (created on demand).
 */
export function preparePodVolumes(store: ObjectStore, rootDir: string, pod: PodView, from: VolumeSources): Map<string, PreparedVolume> {
  const prepared = new Map<string, PreparedVolume>();
  const volumesDir = path.join(podHostDir(rootDir, pod.uid), "volumes");
  for (const volume of pod.volumes) {
    const source = volume.source;
    const dir = path.join(volumesDir, volume.name);
    switch (source.kind) {
      case "emptyDir":
        if (!existsSync(dir)) {
          mkdirSync(dir, { recursive: true });
          chmodSync(dir, WORLD_WRITABLE);
        }
        prepared.set(volume.name, { hostPath: dir, readOnly: false });
        break;
      case "secret":
      case "configMap":
        freshDir(dir);
        writeConfigFiles(store, pod, volume.name, source, dir, source.defaultMode);
        // Kubernetes always mounts these read-only.
        prepared.set(volume.name, { hostPath: dir, readOnly: true });
        break;
      case "persistentVolumeClaim": {
        const claimDir = pvcHostPath(rootDir, pod.namespace, source.claimName);
        if (!existsSync(claimDir)) {
          mkdirSync(claimDir, { recursive: true });
          chmodSync(claimDir, WORLD_WRITABLE);
        }
        prepared.set(volume.name, { hostPath: claimDir, readOnly: source.readOnly });
        break;
      }
      case "projected":
        freshDir(dir);
        for (const projection of source.sources) writeProjection(store, pod, volume.name, projection, dir, source.defaultMode, from);
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
