import { randomUUID } from "node:crypto";
import type { AdapterExecutionContext, AdapterInvocationMeta } from "@paperclipai/adapter-utils";
import type { RuntimeStatusUpdate } from "@paperclipai/adapter-utils/runtime-progress";

export interface RecordedRun {
  ctx: AdapterExecutionContext;
  /** Every `onLog` chunk in order, per stream. */
  stdout: string[];
  stderr: string[];
  meta: AdapterInvocationMeta[];
  /** Every `onRuntimeProgress` update in order. */
  progress: RuntimeStatusUpdate[];
  dispatched: number;
  cancellationReady: number;
  /** Aborts `ctx.signal` (operator Stop). */
  abort(): void;
  /** stdout chunks that are not the runtime's own `[paperclip]` lines: the agent's transcript. */
  transcript(): string[];
}

export interface RunContextInput {
  agentId?: string;
  companyId?: string;
  runId?: string;
  /** The agent's display name (default "Conformance Agent"). */
  agentName?: string;
  adapterType: string;
  config: Record<string, unknown>;
  taskId?: string | null;
  workspaceCwd?: string;
  sessionParams?: Record<string, unknown> | null;
  authToken?: string;
  /** Omit the abort signal, as older Paperclip servers do (cancellation then polls the run status). */
  withoutSignal?: boolean;
}

/** A realistic `AdapterExecutionContext`, as Paperclip's heartbeat service builds one, that records what the adapter reports. */
export function recordedRun(input: RunContextInput): RecordedRun {
  const controller = new AbortController();
  const agentId = input.agentId ?? randomUUID();
  const companyId = input.companyId ?? "company-1";
  const stdout: string[] = [];
  const stderr: string[] = [];
  const meta: AdapterInvocationMeta[] = [];
  const progress: RuntimeStatusUpdate[] = [];
  const run: RecordedRun = {
    stdout,
    stderr,
    meta,
    progress,
    dispatched: 0,
    cancellationReady: 0,
    abort: () => controller.abort(),
    transcript: () => stdout.filter((chunk) => !chunk.startsWith("[paperclip]")),
    ctx: {
      runId: input.runId ?? randomUUID(),
      agent: { id: agentId, companyId, name: input.agentName ?? "Conformance Agent", adapterType: input.adapterType, adapterConfig: input.config },
      runtime: {
        sessionId: typeof input.sessionParams?.sessionId === "string" ? input.sessionParams.sessionId : null,
        sessionParams: input.sessionParams ?? null,
        sessionDisplayId: null,
        taskKey: input.taskId ?? null,
      },
      config: input.config,
      context: {
        ...(input.taskId ? { taskId: input.taskId, issueId: input.taskId } : {}),
        wakeReason: "assignment",
        paperclipWorkspace: input.workspaceCwd
          ? { cwd: input.workspaceCwd, source: "project_primary", workspaceId: "ws-1", repoUrl: "https://example.test/repo.git", repoRef: "main" }
          : undefined,
      },
      ...(input.withoutSignal ? {} : { signal: controller.signal }),
      onCancellationReady: async () => {
        run.cancellationReady++;
      },
      onDispatch: () => {
        run.dispatched++;
      },
      onLog: async (stream, chunk) => {
        (stream === "stdout" ? stdout : stderr).push(chunk);
      },
      onMeta: async (entry) => {
        meta.push(entry);
      },
      onRuntimeProgress: async (update) => {
        progress.push(update);
      },
      authToken: input.authToken ?? `run-jwt-${randomUUID()}`,
    },
  };
  return run;
}
