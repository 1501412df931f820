/**
 * Names of the Kubernetes objects a run creates, and the check for ids that reach file paths.
 */
import { createHash } from "node:crypto";

/** Longest id accepted as a path segment (Paperclip ids are UUIDs: 36 characters). */
export const MAX_PATH_SEGMENT_LENGTH = 128;

const SAFE_PATH_SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Characters of an id kept in a Job name, so `kubectl get jobs` stays readable. */
const NAME_PREFIX_LENGTH = 8;
/** Hex digits of the hash that makes the name unique per (agent, run): 48 bits. */
const NAME_HASH_LENGTH = 12;

/** An id (agent, company, run, …) that may not be used as a path segment. Callers map it to `k8s_agent_id_invalid`. */
export class UnsafeIdError extends Error {
  override readonly name = "UnsafeIdError";
  /** What the id identifies, e.g. "agent id". */
  readonly kind: string;
  readonly id: string;
  constructor(kind: string, id: string, problem: string) {
    super(`${kind} ${JSON.stringify(id)} ${problem}`);
    this.kind = kind;
    this.id = id;
  }
}

/** True when `id` may be used as one path segment (see `assertSafePathSegment`). */
export function isSafePathSegment(id: string): boolean {
  return id.length > 0 && id.length <= MAX_PATH_SEGMENT_LENGTH && SAFE_PATH_SEGMENT.test(id);
}

/**
 * Throws `UnsafeIdError` unless `id` is 1–128 characters of `[A-Za-z0-9_-]`: no `/`, no `.` (so no `..`),
 * nothing a path could be escaped or confused with.
 */
export function assertSafePathSegment(kind: string, id: string): void {
  if (id.length === 0) throw new UnsafeIdError(kind, id, "is empty");
  if (id.length > MAX_PATH_SEGMENT_LENGTH) {
    throw new UnsafeIdError(kind, id, `is longer than ${MAX_PATH_SEGMENT_LENGTH} characters`);
  }
  if (!SAFE_PATH_SEGMENT.test(id)) {
    throw new UnsafeIdError(kind, id, "may only contain letters, digits, '_' and '-'");
  }
}

function namePrefix(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, NAME_PREFIX_LENGTH);
}

/**
 * The Job name of one run: `pc-<agent prefix>-<run prefix>-<hash of both ids>`. Deterministic (a retried create
 * hits the same name), a DNS-1123 label of at most 35 characters, so it is also a valid label value and leaves
 * room for the pod-name suffix the Job controller adds.
 */
export function jobNameFor(agentId: string, runId: string): string {
  const hash = createHash("sha256").update(agentId).update("\0").update(runId).digest("hex");
  return ["pc", namePrefix(agentId), namePrefix(runId), hash.slice(0, NAME_HASH_LENGTH)]
    .filter((part) => part.length > 0)
    .join("-");
}

/**
 * The Secret that holds the credentials of the agent's current run: one name per agent (not per run), so it is
 * also the agent's lock across Paperclip processes: a second run's create of it meets 409 AlreadyExists.
 * `pc-<agent prefix>-<hash of the agent id>-run`, a DNS-1123 label of at most 28 characters.
 */
export function runSecretNameFor(agentId: string): string {
  const hash = createHash("sha256").update("run-secret\0").update(agentId).digest("hex");
  return ["pc", namePrefix(agentId), hash.slice(0, NAME_HASH_LENGTH), "run"].filter((part) => part.length > 0).join("-");
}
