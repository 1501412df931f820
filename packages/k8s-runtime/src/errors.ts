/**
 * The one catalogue of error codes a run can end with. Operators and Paperclip match on these strings, so
 * existing codes never change. The README's table is generated from this catalogue.
 */

export interface ErrorCodeInfo {
  /** What happened, in one line an operator understands. */
  meaning: string;
  /** What to do about it. */
  action: string;
}

export const ERROR_CATALOGUE = {
  timeout: {
    meaning: "The run exceeded `timeoutSec`; Kubernetes stopped the Job (DeadlineExceeded).",
    action: "Raise `timeoutSec` (0 = no limit), or split the task.",
  },
  cancelled: {
    meaning: "The run was cancelled in Paperclip; its Job was deleted.",
    action: "Nothing; start a new run when needed.",
  },
  session_unavailable: {
    meaning: "The agent CLI could not resume the saved session (unknown or expired); it is cleared for the next run.",
    action: "Nothing; the next run starts a fresh session.",
  },
  llm_api_error: {
    meaning: "The LLM provider returned an error (rate limit, overload, server error) or an empty reply.",
    action: "Check the provider's status and quota; Paperclip retries transient errors.",
  },
  llm_auth_error: {
    meaning: "The LLM provider refused the agent's credentials (HTTP 401/403: invalid, expired or missing API key or token). Not retried.",
    action: "Fix the provider credential the agent's pod gets (`ANTHROPIC_API_KEY`, `CLAUDE_CODE_OAUTH_TOKEN`, `OPENAI_API_KEY`, … through the env allowlist or config `env`), then run again.",
  },
  agent_start_failed: {
    meaning: "The agent CLI exited with an error before printing any output; the message is the CLI's own first stderr line.",
    action: "Check the image has the CLI on its PATH, HOME and /tmp are writable for the pod's user, and `extraArgs`/`model` are flags and values the CLI accepts.",
  },
  claude_truncated: {
    meaning: "Claude Code's output was cut short: it ended without its final result event (killed, OOM, crashed mid-run).",
    action: "Read the pod's termination reason in the message; raise memory limits if it was OOMKilled.",
  },
  opencode_truncated: {
    meaning: "OpenCode's output was cut short: it ended without its final step (killed, OOM, crashed mid-run).",
    action: "Read the pod's termination reason in the message; raise memory limits if it was OOMKilled.",
  },
  k8s_config_invalid: {
    meaning: "A Kubernetes config value of the agent is invalid (the message names the key and the value).",
    action: "Fix the named key in the agent's adapter config.",
  },
  k8s_config_forbidden: {
    meaning: "A config value names a server file, directory or program the operator has not allowed (a path outside the allowed roots, `/proc`, Paperclip's secrets, a kubeconfig credential plugin).",
    action: "Move the file under an allowed root, or have the operator allow it on the server (`PAPERCLIP_K8S_ALLOWED_FILE_ROOTS`, `PAPERCLIP_K8S_ALLOW_KUBECONFIG_EXEC`); see the README's server policy.",
  },
  k8s_agent_id_invalid: {
    meaning: "An agent, company or run id is not safe to use in a path or name.",
    action: "Report it: Paperclip ids are expected to be UUIDs.",
  },
  k8s_internal_error: {
    meaning: "The runtime hit an error it does not expect (a bug); the run was stopped and its Job, Secret and files removed (unless `retainJobs`).",
    action: "Report it with the message; the run can be retried.",
  },
  k8s_cluster_unreachable: {
    meaning: "The Kubernetes API could not be reached or the credentials were refused.",
    action: "Check `kubeconfig`, the in-cluster service account, and network access to the API server.",
  },
  k8s_shared_volume_unavailable: {
    meaning: "No shared ReadWriteMany volume was found for the run directory.",
    action: "Run Paperclip in a pod with its instance root on a RWX PVC, or set `sharedVolumeClaim` and `sharedVolumeMountPath`.",
  },
  k8s_run_directory_failed: {
    meaning: "The run directory on the shared volume could not be created or written.",
    action: "Check that the volume is mounted, writable and not full.",
  },
  k8s_workspace_refused: {
    meaning: "The run's working directory may not be mounted into the agent pod: it holds Paperclip's own files or another agent's, or it goes through a symbolic link.",
    action: "Use the agent's own workspace (Paperclip's default), a project workspace of its company, or a directory listed in the server's `PAPERCLIP_K8S_WORKSPACE_ROOTS`.",
  },
  k8s_agent_output_refused: {
    meaning: "The agent replaced one of its output files (stdout, stderr, exit-code) with a symbolic link, FIFO or other non-file; the server did not read it.",
    action: "Treat the agent as misbehaving: inspect its task and prompt. The run's output is incomplete.",
  },
  k8s_secret_create_failed: {
    meaning: "The per-run Secret holding the run's credentials could not be created.",
    action: "Check the service account may create Secrets in the namespace, and the namespace's quota.",
  },
  k8s_job_create_failed: {
    meaning: "The Kubernetes API refused to create the Job (RBAC, quota, admission or validation).",
    action: "Read the API's reason in the message; check RBAC, ResourceQuota and admission policies.",
  },
  k8s_pod_schedule_failed: {
    meaning: "The pod could not be scheduled (Unschedulable, or still pending after `scheduleTimeoutSec`).",
    action: "Check node capacity, `resources`, `nodeSelector` and `tolerations`.",
  },
  k8s_image_pull_failed: {
    meaning: "The image could not be pulled (bad name, missing image, missing pull secret, or still failing after `imagePullGraceSec`).",
    action: "Check `image`, `imagePullPolicy` and `imagePullSecrets`.",
  },
  k8s_pod_create_refused: {
    meaning: "Kubernetes refused to create the Job's pod (the Job's `FailedCreate` event): Pod Security admission, an admission webhook, or a quota. The message quotes the refusal, naming the violated rule.",
    action: "Fix what the message names: the agent's `runAsUser`, `resources`, or the namespace's `pod-security.kubernetes.io/enforce` level, webhooks or ResourceQuota.",
  },
  k8s_volume_attach_failed: {
    meaning: "The agent pod could not attach the shared volume on its node (`FailedAttachVolume`, e.g. a ReadWriteOnce claim already attached to another node: Multi-Attach).",
    action: "Use a ReadWriteMany claim, or keep the claim ReadWriteOnce and let agent pods run on the Paperclip pod's node (the runtime does so when it reads the claim as ReadWriteOnce; check `get persistentvolumeclaims` in the Role).",
  },
  k8s_pod_start_failed: {
    meaning: "The container could not start (CreateContainerConfigError, CrashLoopBackOff, pod Failed before start, or not running after `startupTimeoutSec`).",
    action: "Read the Kubernetes reason in the message; `kubectl describe pod` shows the events.",
  },
  k8s_pod_reattach_failed: {
    meaning: "An orphaned Job of this agent could not be taken over by the new run.",
    action: "Delete the orphaned Job (label `paperclip.io/agent-id`) and retry.",
  },
  k8s_concurrent_run_blocked: {
    meaning:
      "Another Job of this agent is still running for a different task (or reattaching is disabled), or another Paperclip process is starting or running a run of this agent (it holds the agent's run Secret).",
    action: "Wait for it to finish, or delete it with `kubectl delete job <name>`; a run Secret left by a crashed server frees itself after 2 minutes.",
  },
  k8s_orphan_task_unknown: {
    meaning: "A Job of this agent is still running and it is unknown whether it works on the same task.",
    action: "Wait for it to finish, or delete it with `kubectl delete job <name>`.",
  },
  k8s_orphan_session_mismatch: {
    meaning: "A Job of this agent is still running the same task in a different session.",
    action: "Wait for it to finish, or delete it with `kubectl delete job <name>`.",
  },
  k8s_concurrency_guard_unreachable: {
    meaning: "The runtime could not read the agent's Jobs to make sure no other run is active, so it did not start one.",
    action: "Check access to the Kubernetes API (list/watch Jobs in the namespace).",
  },
  k8s_job_state_mismatch: {
    meaning: "The Job or pod reached a state the runtime cannot reconcile with the run (e.g. finished without an exit code).",
    action: "Inspect the Job and pod (`kubectl describe`); set `retainJobs` to keep them for analysis.",
  },
  k8s_job_deleted_externally: {
    meaning: "The Job was deleted by someone else while the run was active.",
    action: "Check who deleted it (audit log, TTL controller, cleanup scripts).",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}

/**
 * Codes that end a run before its agent container could start: refused config, no cluster, a Job or Secret that
 * could not be created, a pod never scheduled, pulled, admitted or attached, another run holding the agent. The
 * agent did nothing, so nothing needs undoing: the result says so to Paperclip (`executionRecovery`), which then
 * lets the task be woken again instead of holding it for the board to reconcile. Not here: codes whose container
 * may have run (`k8s_pod_start_failed` covers a crash after start), reattach failures (the orphan's agent ran).
 */
const BEFORE_AGENT_START: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "k8s_config_invalid",
  "k8s_config_forbidden",
  "k8s_agent_id_invalid",
  "k8s_cluster_unreachable",
  "k8s_shared_volume_unavailable",
  "k8s_run_directory_failed",
  "k8s_workspace_refused",
  "k8s_secret_create_failed",
  "k8s_job_create_failed",
  "k8s_pod_schedule_failed",
  "k8s_image_pull_failed",
  "k8s_pod_create_refused",
  "k8s_volume_attach_failed",
  "k8s_concurrent_run_blocked",
  "k8s_orphan_task_unknown",
  "k8s_orphan_session_mismatch",
  "k8s_concurrency_guard_unreachable",
]);

/** Whether a run that ended with `code` ended before its agent container could start. */
export function endsBeforeAgentStart(code: ErrorCode): boolean {
  return BEFORE_AGENT_START.has(code);
}

/** Paperclip's evidence that no provider work happened (adapter-utils' `executionRecovery`). */
const NO_PROVIDER_WORK = { kind: "bootstrap", providerWorkStarted: false } as const;

/** A failed run, shaped as (and assignable to) Paperclip's `AdapterExecutionResult`. */
export interface FailedRunResult {
  exitCode: null;
  signal: null;
  /** True only for `timeout`. */
  timedOut: boolean;
  errorCode: ErrorCode;
  errorMessage: string;
  errorMeta?: Record<string, unknown>;
  executionRecovery?: typeof NO_PROVIDER_WORK;
}

/** The result of a run that failed before (or without) the agent producing an exit code. */
export function failedRunResult(errorCode: ErrorCode, errorMessage: string, errorMeta?: Record<string, unknown>): FailedRunResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: errorCode === "timeout",
    errorCode,
    errorMessage,
    ...(errorMeta === undefined ? {} : { errorMeta }),
    ...(endsBeforeAgentStart(errorCode) ? { executionRecovery: NO_PROVIDER_WORK } : {}),
  };
}

/** An unexpected exception as a result: the message names what failed, in one line. */
export function internalErrorResult(error: unknown): FailedRunResult {
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return failedRunResult("k8s_internal_error", `Unexpected error in the Kubernetes runtime: ${what.replace(/\s+/g, " ").trim()}`);
}

/** The catalogue as a markdown table (for the README). */
export function errorCatalogueMarkdown(): string {
  const escape = (text: string): string => text.replace(/\|/g, "\\|");
  const rows = Object.entries(ERROR_CATALOGUE).map(([code, info]) => {
    const beforeStart = isErrorCode(code) && endsBeforeAgentStart(code) ? "yes" : "";
    return `| \`${code}\` | ${escape(info.meaning)} | ${escape(info.action)} | ${beforeStart} |`;
  });
  return ["| Code | Meaning | What to do | Before the agent started |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
