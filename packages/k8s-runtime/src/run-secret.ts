/**
 * The run Secret: every credential a run needs (the run JWT as `PAPERCLIP_API_KEY`, inherited literal values,
 * config `env` values), so nothing secret is a literal in the Job spec. The Job owns it (ownerReference patched
 * right after the Job is created), so deleting the Job deletes the Secret. Its name is per agent
 * (`runSecretNameFor`), so it is also the agent's lock (`agent-lock.ts`); its annotations name the run holding it.
 */
import type { V1EnvVar, V1Job, V1OwnerReference, V1Secret } from "@kubernetes/client-node";
import { isEnvName } from "./k8s-syntax.ts";
import { ANNOTATION_AGENT_ID, ANNOTATION_RUN_ID } from "./labels.ts";

/** The Job of the run that holds the Secret: set at create, before the Job exists and before its ownerReference. */
export const ANNOTATION_HOLDER_JOB = "paperclip.io/job-name";
/** That Job's uid, set with the ownerReference; it stays when a delete with orphan propagation strips the owner. */
export const ANNOTATION_HOLDER_JOB_UID = "paperclip.io/job-uid";

/** Kubernetes refuses Secrets whose data exceeds 1 MiB. */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024;

export interface RunSecretInput {
  /** From `runSecretNameFor(agentId)`. */
  name: string;
  namespace: string;
  /** The run's labels, so operators (and the reaper) find the Secret like its Job. */
  labels: Readonly<Record<string, string>>;
  /** The run holding the Secret (the agent's lock), recorded in its annotations. */
  holder: { agentId: string; runId: string; jobName: string };
  /** Env var name → value; each name must be a valid env var name. */
  values: Readonly<Record<string, string>>;
}

/** An Opaque, immutable Secret with the values base64-encoded in `data`. Throws on an invalid name or oversize data. */
export function buildRunSecret(input: RunSecretInput): V1Secret {
  const data: Record<string, string> = {};
  let size = 0;
  for (const [key, value] of Object.entries(input.values)) {
    if (!isEnvName(key)) throw new Error(`run Secret: ${JSON.stringify(key)} is not a valid env var name`);
    const bytes = Buffer.from(value, "utf8");
    size += bytes.length;
    data[key] = bytes.toString("base64");
  }
  if (size > MAX_SECRET_DATA_BYTES) {
    throw new Error(`run Secret: the values take ${size} bytes, more than the ${MAX_SECRET_DATA_BYTES} Kubernetes allows`);
  }
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      annotations: {
        [ANNOTATION_AGENT_ID]: input.holder.agentId,
        [ANNOTATION_RUN_ID]: input.holder.runId,
        [ANNOTATION_HOLDER_JOB]: input.holder.jobName,
      },
    },
    type: "Opaque",
    immutable: true,
    data,
  };
}

/** One `secretKeyRef` env entry per key of the run Secret. */
export function runSecretEnv(secretName: string, keys: readonly string[]): V1EnvVar[] {
  return keys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: secretName, key } } }));
}

/**
 * The ownerReference that makes `job` own the Secret. `blockOwnerDeletion` is left out: setting it needs
 * permission on `jobs/finalizers`, and the garbage collector deletes the Secret without it.
 */
export function ownerReferenceTo(job: V1Job): V1OwnerReference {
  const name = job.metadata?.name;
  const uid = job.metadata?.uid;
  if (name === undefined || uid === undefined) throw new Error("ownerReferenceTo: the Job has no name or uid yet (use the created Job)");
  return { apiVersion: "batch/v1", kind: "Job", name, uid };
}

/**
 * Body of the merge patch that hands the Secret to its Job (ownerReference, and the Job's uid as an annotation).
 * With the Secret's `resourceVersion`, the API server refuses (409) to patch a Secret that changed since: one
 * another process recreated after judging ours stale.
 */
export function ownerReferencePatch(
  job: V1Job,
  resourceVersion?: string,
): { metadata: { ownerReferences: V1OwnerReference[]; annotations: Record<string, string>; resourceVersion?: string } } {
  const owner = ownerReferenceTo(job);
  return {
    metadata: { ownerReferences: [owner], annotations: { [ANNOTATION_HOLDER_JOB_UID]: owner.uid }, ...(resourceVersion ? { resourceVersion } : {}) },
  };
}

/** The Job name of the run holding the Secret: its annotation, else its owner's name. */
export function holderJobOf(secret: V1Secret): string | null {
  return secret.metadata?.annotations?.[ANNOTATION_HOLDER_JOB] ?? ownerJobOf(secret)?.name ?? null;
}

/** The Job the Secret belongs to by ownerReference, if its owner patch happened. */
export function ownerJobOf(secret: V1Secret): V1OwnerReference | null {
  return secret.metadata?.ownerReferences?.find((owner) => owner.kind === "Job" && owner.apiVersion === "batch/v1") ?? null;
}

/** The uid of the Job that took the Secret over (owner, else the annotation the owner patch left), or null if none did. */
export function holderJobUidOf(secret: V1Secret): string | null {
  return ownerJobOf(secret)?.uid ?? secret.metadata?.annotations?.[ANNOTATION_HOLDER_JOB_UID] ?? null;
}
