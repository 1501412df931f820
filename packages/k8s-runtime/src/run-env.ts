import {
  applyPaperclipWorkspaceEnv,
  buildPaperclipEnv,
  isForbiddenConfigEnvKey,
  isPaperclipRuntimeEnvKey,
  readPaperclipIssueWorkModeFromContext,
  stringifyPaperclipWakePayload,
} from "@paperclipai/adapter-utils/server-utils";
import type { AdapterExecutionContext } from "@paperclipai/adapter-utils";

/** The agent's environment, split by sensitivity: `plain` may be a literal in the Job spec, `secret` may not. */
export interface RunEnvironment {
  plain: Record<string, string>;
  secret: Record<string, string>;
}

function trimmed(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

/** Task id of the wake, as Paperclip's local adapters read it (taskId, else issueId). */
export function taskIdOf(context: Record<string, unknown>): string | null {
  return trimmed(context.taskId) ?? trimmed(context.issueId);
}

/**
 * The Paperclip variables an agent run gets (the same set the local adapters set: agent, run, task,
 * wake, approval, workspace and runtime services), plus the config `env` values and the run JWT.
 * Config values and the JWT are secret: they travel in the per-run Secret, never in the Job spec.
 */
export function buildRunEnvironment(
  ctx: Pick<AdapterExecutionContext, "runId" | "agent" | "context" | "authToken">,
  configEnv: Readonly<Record<string, string>>,
  apiUrlOverride: string | undefined,
): RunEnvironment {
  const { runId, agent, context } = ctx;
  const plain: Record<string, string> = { ...buildPaperclipEnv(agent), PAPERCLIP_RUN_ID: runId };
  if (apiUrlOverride) plain.PAPERCLIP_API_URL = apiUrlOverride;
  const optional: Record<string, string | null> = {
    PAPERCLIP_TASK_ID: taskIdOf(context),
    PAPERCLIP_ISSUE_WORK_MODE: readPaperclipIssueWorkModeFromContext(context),
    PAPERCLIP_WAKE_REASON: trimmed(context.wakeReason),
    PAPERCLIP_WAKE_COMMENT_ID: trimmed(context.wakeCommentId) ?? trimmed(context.commentId),
    PAPERCLIP_APPROVAL_ID: trimmed(context.approvalId),
    PAPERCLIP_APPROVAL_STATUS: trimmed(context.approvalStatus),
    PAPERCLIP_WAKE_PAYLOAD_JSON: stringifyPaperclipWakePayload(context.paperclipWake) || null,
    PAPERCLIP_RUNTIME_PRIMARY_URL: trimmed(context.paperclipRuntimePrimaryUrl),
  };
  const linkedIssues = Array.isArray(context.issueIds)
    ? context.issueIds.filter((id): id is string => typeof id === "string" && id.trim().length > 0)
    : [];
  if (linkedIssues.length > 0) optional.PAPERCLIP_LINKED_ISSUE_IDS = linkedIssues.join(",");
  for (const [name, jsonKey] of [
    ["PAPERCLIP_WORKSPACES_JSON", "paperclipWorkspaces"],
    ["PAPERCLIP_RUNTIME_SERVICE_INTENTS_JSON", "paperclipRuntimeServiceIntents"],
    ["PAPERCLIP_RUNTIME_SERVICES_JSON", "paperclipRuntimeServices"],
  ] as const) {
    const list = context[jsonKey];
    if (Array.isArray(list) && list.length > 0) optional[name] = JSON.stringify(list);
  }
  for (const [name, value] of Object.entries(optional)) if (value) plain[name] = value;

  const workspace = workspaceOf(context);
  applyPaperclipWorkspaceEnv(plain, {
    workspaceCwd: workspace.cwd,
    workspaceSource: workspace.source,
    workspaceStrategy: workspace.strategy,
    workspaceId: workspace.workspaceId,
    workspaceRepoUrl: workspace.repoUrl,
    workspaceRepoRef: workspace.repoRef,
    workspaceBranch: workspace.branchName,
    workspaceWorktreePath: workspace.worktreePath,
    agentHome: workspace.agentHome,
  });

  const secret: Record<string, string> = {};
  for (const [name, value] of Object.entries(configEnv)) {
    // The run token is minted by Paperclip only, and Paperclip's own run variables win over config.
    if (isForbiddenConfigEnvKey(name) || (isPaperclipRuntimeEnvKey(name) && name in plain)) continue;
    secret[name] = value;
    delete plain[name];
  }
  if (ctx.authToken) secret.PAPERCLIP_API_KEY = ctx.authToken;
  return { plain, secret };
}

export interface WorkspaceContext {
  cwd: string | null;
  source: string | null;
  strategy: string | null;
  workspaceId: string | null;
  repoUrl: string | null;
  repoRef: string | null;
  branchName: string | null;
  worktreePath: string | null;
  agentHome: string | null;
}

/** `context.paperclipWorkspace`, read defensively. */
export function workspaceOf(context: Record<string, unknown>): WorkspaceContext {
  const raw = context.paperclipWorkspace;
  const record: Record<string, unknown> = typeof raw === "object" && raw !== null ? { ...raw } : {};
  return {
    cwd: trimmed(record.cwd),
    source: trimmed(record.source),
    strategy: trimmed(record.strategy),
    workspaceId: trimmed(record.workspaceId),
    repoUrl: trimmed(record.repoUrl),
    repoRef: trimmed(record.repoRef),
    branchName: trimmed(record.branchName),
    worktreePath: trimmed(record.worktreePath),
    agentHome: trimmed(record.agentHome),
  };
}

/** Temp and scratch directories: Paperclip points them at directories on its own host. */
function isScratchDirectoryVariable(name: string): boolean {
  return name === "TMPDIR" || name === "TEMP" || name === "TMP" || /^PAPERCLIP_(TMPDIR|[A-Z_]*SCRATCH_DIR)$/.test(name);
}

/**
 * Config `env` as an agent pod can use it. Paperclip fills TMPDIR/TEMP/TMP and its scratch
 * directories with paths on the server's own host; a pod cannot see those (it has its own /tmp), so
 * such a variable is dropped unless its directory lies on the shared volume both sides mount.
 */
export function podUsableEnv(
  env: Readonly<Record<string, string>>,
  isOnSharedVolume: (path: string) => boolean,
): { env: Record<string, string>; dropped: string[] } {
  const usable: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (isScratchDirectoryVariable(name) && !isOnSharedVolume(value)) dropped.push(name);
    else usable[name] = value;
  }
  return { env: usable, dropped };
}
