/**
 * Labels and annotations on every Job and pod the runtime creates. Operators and the runtime's own watch
 * select on the labels; label values are lossy (sanitized), so the full ids also travel in annotations, and
 * anything that compares ids (orphan classification) reads the annotations.
 */

export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_AGENT_ID = "paperclip.io/agent-id";
export const LABEL_RUN_ID = "paperclip.io/run-id";
export const LABEL_COMPANY_ID = "paperclip.io/company-id";
export const LABEL_ADAPTER_TYPE = "paperclip.io/adapter-type";
export const LABEL_TASK_ID = "paperclip.io/task-id";
export const LABEL_SESSION_ID = "paperclip.io/session-id";

export const MANAGED_BY_VALUE = "paperclip";
export const COMPONENT_VALUE = "agent-job";

export const ANNOTATION_ADAPTER_TYPE = "paperclip.io/adapter-type";
export const ANNOTATION_AGENT_NAME = "paperclip.io/agent-name";
export const ANNOTATION_AGENT_ID = "paperclip.io/agent-id";
export const ANNOTATION_RUN_ID = "paperclip.io/run-id";
export const ANNOTATION_TASK_ID = "paperclip.io/task-id";
export const ANNOTATION_SESSION_ID = "paperclip.io/session-id";
/** The run directory the Job's pod writes to; a reattaching run tails it, the reaper removes it. */
export const ANNOTATION_RUN_DIRECTORY = "paperclip.io/run-directory";
/** `"true"` on Jobs of agents with `retainJobs`: the reaper leaves them alone. */
export const ANNOTATION_RETAIN = "paperclip.io/retain";

/** Label-key prefixes user labels (config `labels`) may not use: the runtime owns them. */
export const RESERVED_LABEL_PREFIXES: readonly string[] = ["paperclip.io/", "app.kubernetes.io/"];

/** Selects every Job and pod this runtime manages. */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;

const MAX_LABEL_VALUE_LENGTH = 63;

/**
 * A valid label value made from any string: lower case `[a-z0-9._-]`, at most 63 characters, starting and ending
 * with a letter or digit. Other characters become `-`. Returns "" when nothing survives (a valid, empty value).
 */
export function sanitizeLabelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, "-")
    .slice(0, MAX_LABEL_VALUE_LENGTH)
    .replace(/^[^a-z0-9]+/, "")
    .replace(/[^a-z0-9]+$/, "");
}

/** Selects the managed Jobs and pods of one agent (the concurrency guard lists these). */
export function agentSelector(agentId: string): string {
  return `${MANAGED_SELECTOR},${LABEL_AGENT_ID}=${sanitizeLabelValue(agentId)}`;
}

/** Who and what one run is, as the labels and annotations record it. */
export interface RunIdentity {
  agentId: string;
  /** The agent's display name (annotation only). */
  agentName: string;
  runId: string;
  companyId: string;
  /** Paperclip adapter type, e.g. `claude_k8s`. */
  adapterType: string;
  taskId: string | null;
  sessionId: string | null;
  /** Absolute run directory (annotation only). */
  runDirectory?: string;
  /** Config `retainJobs` (annotation only). */
  retain?: boolean;
}

/**
 * Labels for the Job and its pod template. `userLabels` (config `labels`, already validated and free of reserved
 * prefixes) come first so the runtime's own labels always win. Ids that sanitize to "" are left out.
 */
export function buildRunLabels(run: RunIdentity, userLabels: Readonly<Record<string, string>> = {}): Record<string, string> {
  const labels: Record<string, string> = {
    ...userLabels,
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_COMPONENT]: COMPONENT_VALUE,
  };
  const ids: Array<[string, string | null]> = [
    [LABEL_AGENT_ID, run.agentId],
    [LABEL_RUN_ID, run.runId],
    [LABEL_COMPANY_ID, run.companyId],
    [LABEL_ADAPTER_TYPE, run.adapterType],
    [LABEL_TASK_ID, run.taskId],
    [LABEL_SESSION_ID, run.sessionId],
  ];
  for (const [key, id] of ids) {
    const value = id === null ? "" : sanitizeLabelValue(id);
    if (value !== "") labels[key] = value;
  }
  return labels;
}

/**
 * The longest agent name kept in its annotation. Names are free text Paperclip does not bound, and all of an
 * object's annotations together may hold at most 256 KiB: a longer total fails the Job create with 422.
 */
export const MAX_AGENT_NAME_ANNOTATION_LENGTH = 1024;

/** `value` cut to `MAX_AGENT_NAME_ANNOTATION_LENGTH` characters (the last one `…` when cut), never splitting a surrogate pair. */
function cutAnnotationValue(value: string): string {
  if (value.length <= MAX_AGENT_NAME_ANNOTATION_LENGTH) return value;
  const kept = Array.from(value.slice(0, MAX_AGENT_NAME_ANNOTATION_LENGTH)).slice(0, -1).join("");
  return `${kept}…`;
}

/** Annotations with the full, unsanitized ids (absent task/session ids left out), the run directory and the retain flag. */
export function buildRunAnnotations(run: RunIdentity): Record<string, string> {
  return {
    [ANNOTATION_ADAPTER_TYPE]: run.adapterType,
    [ANNOTATION_AGENT_NAME]: cutAnnotationValue(run.agentName),
    [ANNOTATION_AGENT_ID]: run.agentId,
    [ANNOTATION_RUN_ID]: run.runId,
    ...(run.taskId === null ? {} : { [ANNOTATION_TASK_ID]: run.taskId }),
    ...(run.sessionId === null ? {} : { [ANNOTATION_SESSION_ID]: run.sessionId }),
    ...(run.runDirectory === undefined ? {} : { [ANNOTATION_RUN_DIRECTORY]: run.runDirectory }),
    ...(run.retain === true ? { [ANNOTATION_RETAIN]: "true" } : {}),
  };
}

/** The ids an existing Job carries, read back from its annotations (null where absent). */
export interface AnnotatedRunIds {
  agentId: string | null;
  runId: string | null;
  taskId: string | null;
  sessionId: string | null;
}

export function readRunAnnotations(annotations: Readonly<Record<string, string>> | undefined): AnnotatedRunIds {
  const read = (key: string): string | null => {
    const value = annotations?.[key];
    return value === undefined || value === "" ? null : value;
  };
  return {
    agentId: read(ANNOTATION_AGENT_ID),
    runId: read(ANNOTATION_RUN_ID),
    taskId: read(ANNOTATION_TASK_ID),
    sessionId: read(ANNOTATION_SESSION_ID),
  };
}

/**
 * The metadata of a merge patch that hands a reattached Job (and, applied to it, its pod) to a new run:
 * the run-id label and annotation.
 */
export function reattachMetadataPatch(runId: string): { labels: Record<string, string | null>; annotations: Record<string, string> } {
  const label = sanitizeLabelValue(runId);
  return {
    // null deletes the label in a merge patch when the new id sanitizes to nothing.
    labels: { [LABEL_RUN_ID]: label === "" ? null : label },
    annotations: { [ANNOTATION_RUN_ID]: runId },
  };
}
