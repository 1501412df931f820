/**
 * The Job of one run (DESIGN §3.6). Pure: every value comes from the typed input. Nothing secret is a literal:
 * credentials are `secretKeyRef`s into the per-run Secret or references the server's pod already uses.
 */
import type {
  V1EnvFromSource,
  V1EnvVar,
  V1Job,
  V1PodDNSConfig,
  V1ResourceRequirements,
  V1Toleration,
} from "@kubernetes/client-node";
import { isAbsolute } from "node:path";
import { isDns1123Label } from "./k8s-syntax.ts";
import type { ClaimMount } from "./pod-volumes.ts";
import { runSecretEnv } from "./run-secret.ts";
import { pinnedToNode } from "./storage-mode.ts";

export const SHARED_VOLUME_NAME = "paperclip-shared";
export const TMP_VOLUME_NAME = "tmp";

export interface JobManifestInput {
  /** From `jobNameFor(agentId, runId)`. */
  name: string;
  namespace: string;
  /** `buildRunLabels(...)`: on the Job and the pod template. */
  labels: Readonly<Record<string, string>>;
  /** `buildRunAnnotations(...)`: on the Job and the pod template. */
  annotations: Readonly<Record<string, string>>;
  /** The agent's container name (`AgentDefinition.containerName`). */
  containerName: string;
  image: string;
  /** Omitted: Kubernetes' default (Always for `:latest`, else IfNotPresent). */
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  imagePullSecrets: readonly string[];
  /** The full container command: `wrapAgentCommand(...)`. */
  command: readonly string[];
  env: {
    /** Non-secret values: the agent's env and the Paperclip run context. */
    plain: Readonly<Record<string, string>>;
    /** Inherited by reference from the server's pod (`collectInheritedEnv`). */
    references: readonly V1EnvVar[];
    /** Inherited whole sources (`collectInheritedEnv`). */
    envFrom: readonly V1EnvFromSource[];
    /** The per-run Secret and its keys. A key wins over a plain value or reference of the same name. */
    secret: { name: string; keys: readonly string[] } | null;
  };
  /** The agent's HOME: a writable directory on the shared volume (survives across runs, so sessions resume). */
  homeDir: string;
  /**
   * The claim holding Paperclip's instance root, and the parts of it the pod may see (`agentClaimMounts`),
   * each at the same path as on the server. Never the whole claim.
   */
  sharedVolume: { claimName: string; mounts: readonly ClaimMount[] };
  /** 0 = no limit (no `activeDeadlineSeconds`). Fractions round up. */
  timeoutSec: number;
  /** `terminationGracePeriodSeconds`; fractions round up. */
  graceSec: number;
  /** Omitted: the Job stays until the runtime deletes it. */
  ttlSecondsAfterFinished?: number;
  /** The pod's user and group; never 0 (agent pods run non-root). */
  runAsUser: number;
  runAsGroup: number;
  fsGroup?: number;
  resources?: V1ResourceRequirements;
  nodeSelector?: Readonly<Record<string, string>>;
  /** The pod must run on this node (a ReadWriteOnce claim attached there): required node affinity. */
  requiredNode?: string;
  tolerations?: readonly V1Toleration[];
  /** Omitted: the namespace's `default` account, and no API token is mounted (agents do not talk to Kubernetes). */
  serviceAccountName?: string;
  /** Copied from the Paperclip server's pod, so agents resolve names as the server does. */
  dnsPolicy?: string;
  dnsConfig?: V1PodDNSConfig;
}

/** Container env with one entry per name: references < plain values < run-Secret keys. */
function containerEnv(env: JobManifestInput["env"], homeDir: string): V1EnvVar[] {
  const byName = new Map<string, V1EnvVar>();
  for (const reference of env.references) byName.set(reference.name, reference);
  for (const [name, value] of Object.entries({ ...env.plain, HOME: homeDir })) byName.set(name, { name, value });
  if (env.secret !== null) {
    for (const secretVar of runSecretEnv(env.secret.name, env.secret.keys)) byName.set(secretVar.name, secretVar);
  }
  return [...byName.values()];
}

function assertInput(input: JobManifestInput): void {
  const problems: string[] = [];
  if (!isDns1123Label(input.name)) problems.push(`name ${JSON.stringify(input.name)} is not a DNS-1123 label`);
  if (!isDns1123Label(input.namespace)) problems.push(`namespace ${JSON.stringify(input.namespace)} is not a DNS-1123 label`);
  if (!isDns1123Label(input.containerName)) problems.push(`containerName ${JSON.stringify(input.containerName)} is not a DNS-1123 label`);
  if (input.image.trim() === "") problems.push("image is empty");
  if (input.command.length === 0) problems.push("command is empty");
  if (!isAbsolute(input.homeDir)) problems.push(`homeDir ${JSON.stringify(input.homeDir)} is not absolute`);
  for (const mount of input.sharedVolume.mounts) {
    if (!isAbsolute(mount.mountPath)) problems.push(`shared volume mountPath ${JSON.stringify(mount.mountPath)} is not absolute`);
    if (mount.subPath === "" || isAbsolute(mount.subPath) || mount.subPath.split("/").includes("..")) {
      problems.push(`shared volume subPath ${JSON.stringify(mount.subPath)} must be a relative path inside the claim`);
    }
  }
  if (!Number.isInteger(input.runAsUser) || input.runAsUser <= 0) problems.push(`runAsUser must be a positive integer (non-root), got ${input.runAsUser}`);
  if (!Number.isInteger(input.runAsGroup) || input.runAsGroup < 0) problems.push(`runAsGroup must be a non-negative integer, got ${input.runAsGroup}`);
  for (const [field, value] of [["timeoutSec", input.timeoutSec], ["graceSec", input.graceSec]] as const) {
    if (!Number.isFinite(value) || value < 0) problems.push(`${field} must be a non-negative number, got ${value}`);
  }
  if (problems.length > 0) throw new Error(`Job manifest: ${problems.join("; ")}`);
}

/**
 * Kubernetes expands `$(VAR)` in a container's command and args and turns `$$` into `$`; the
 * wrapper's shell text and the agent's arguments must reach the shell unchanged, so every `$` is
 * escaped as `$$`.
 */
export function escapeVariableReferences(arg: string): string {
  return arg.replaceAll("$", "$$$$");
}

export function buildJobManifest(input: JobManifestInput): V1Job {
  assertInput(input);
  const metadata = { labels: { ...input.labels }, annotations: { ...input.annotations } };
  const deadline = Math.ceil(input.timeoutSec);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: input.name, namespace: input.namespace, ...metadata },
    spec: {
      backoffLimit: 0,
      ...(deadline > 0 ? { activeDeadlineSeconds: deadline } : {}),
      ...(input.ttlSecondsAfterFinished === undefined ? {} : { ttlSecondsAfterFinished: input.ttlSecondsAfterFinished }),
      template: {
        metadata,
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: Math.ceil(input.graceSec),
          enableServiceLinks: false,
          ...(input.serviceAccountName === undefined
            ? { automountServiceAccountToken: false }
            : { serviceAccountName: input.serviceAccountName }),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: input.runAsUser,
            runAsGroup: input.runAsGroup,
            ...(input.fsGroup === undefined ? {} : { fsGroup: input.fsGroup }),
            seccompProfile: { type: "RuntimeDefault" },
          },
          ...(input.imagePullSecrets.length > 0 ? { imagePullSecrets: input.imagePullSecrets.map((name) => ({ name })) } : {}),
          ...(input.nodeSelector === undefined || Object.keys(input.nodeSelector).length === 0 ? {} : { nodeSelector: { ...input.nodeSelector } }),
          ...(input.requiredNode === undefined ? {} : { affinity: pinnedToNode(input.requiredNode) }),
          ...(input.tolerations === undefined || input.tolerations.length === 0 ? {} : { tolerations: [...input.tolerations] }),
          ...(input.dnsPolicy === undefined ? {} : { dnsPolicy: input.dnsPolicy }),
          ...(input.dnsConfig === undefined ? {} : { dnsConfig: input.dnsConfig }),
          volumes: [
            { name: SHARED_VOLUME_NAME, persistentVolumeClaim: { claimName: input.sharedVolume.claimName } },
            { name: TMP_VOLUME_NAME, emptyDir: {} },
          ],
          containers: [
            {
              name: input.containerName,
              image: input.image,
              ...(input.imagePullPolicy === undefined ? {} : { imagePullPolicy: input.imagePullPolicy }),
              command: input.command.map(escapeVariableReferences),
              env: containerEnv(input.env, input.homeDir),
              ...(input.env.envFrom.length > 0 ? { envFrom: [...input.env.envFrom] } : {}),
              ...(input.resources === undefined ? {} : { resources: input.resources }),
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: TMP_VOLUME_NAME, mountPath: "/tmp" },
                ...input.sharedVolume.mounts.map((mount) => ({
                  name: SHARED_VOLUME_NAME,
                  mountPath: mount.mountPath,
                  subPath: mount.subPath,
                  ...(mount.readOnly ? { readOnly: true } : {}),
                })),
              ],
              terminationMessagePolicy: "File", // never a log tail in the Pod object: anyone who may `get pods` reads it
            },
          ],
        },
      },
    },
  };
}
