/**
 * The few Paperclip REST calls the end-to-end tests make, as the board (in `local_trusted` mode a loopback
 * request acts as the local admin, so no credentials are needed). Responses are narrowed from `unknown`.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-2xx answer, with the status and the body Paperclip sent. */
export class PaperclipApiError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(method: string, route: string, status: number, body: string) {
    super(`${method} ${route} answered ${status}: ${body.slice(0, 2000)}`);
    this.name = "PaperclipApiError";
    this.status = status;
    this.body = body;
  }
}

/** Statuses a heartbeat run ends in. */
export const TERMINAL_RUN_STATUSES = new Set(["succeeded", "failed", "cancelled", "timed_out", "interrupted"]);

export interface HeartbeatRun extends JsonObject {
  id: string;
  status: string;
}

function readString(object: JsonObject, key: string, what: string): string {
  const value = object[key];
  if (typeof value !== "string") throw new Error(`${what} has no string "${key}": ${JSON.stringify(object).slice(0, 500)}`);
  return value;
}

function asRun(value: unknown, what: string): HeartbeatRun {
  if (!isJsonObject(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return { ...value, id: readString(value, "id", what), status: readString(value, "status", what) };
}

/** What a run log (NDJSON records `{ts, stream, chunk}`) holds for one stream, chunks joined in order. */
export function logStream(log: string, stream: "stdout" | "stderr"): string {
  return log
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line): unknown => JSON.parse(line))
    .flatMap((record) => (isJsonObject(record) && record.stream === stream && typeof record.chunk === "string" ? [record.chunk] : []))
    .join("");
}

export interface PaperclipApi {
  request(method: string, route: string, body?: unknown): Promise<unknown>;
  text(route: string): Promise<string>;
  installAdapter(packageDir: string): Promise<JsonObject>;
  createCompany(name: string): Promise<string>;
  createAgent(companyId: string, agent: { name: string; adapterType: string; adapterConfig: JsonObject }): Promise<string>;
  /** Creates an issue (a task) assigned to an agent, which wakes it; returns the issue id. */
  createIssue(companyId: string, title: string, assigneeAgentId: string): Promise<string>;
  /** The company's runs of one agent, newest first. */
  runsOf(companyId: string, agentId: string): Promise<HeartbeatRun[]>;
  /** Replaces an agent's adapter config. */
  updateAdapterConfig(agentId: string, adapterConfig: JsonObject): Promise<void>;
  /**
   * Wakes an agent for a task; returns the run Paperclip queued. A wake answered `execution_reconciliation_required`
   * reconciles the run it names and wakes again, unless `reconcile` is false: then the answer is an error.
   */
  wake(agentId: string, taskId: string, options?: { reconcile: boolean }): Promise<HeartbeatRun>;
  run(runId: string): Promise<HeartbeatRun>;
  /** The run log's text (NDJSON records of what the adapter logged); empty while the run has logged nothing. */
  runLog(runId: string): Promise<string>;
  cancel(runId: string): Promise<void>;
  /**
   * As the board, settles a task's recovery hold for a lost run and puts the task back to `todo`: Paperclip holds
   * a task whose run it lost until someone reconciles what that run did (`execution_reconciliation_required`).
   */
  reconcileLostRun(taskId: string, runId: string, evidence: string): Promise<void>;
  /** Polls the run until `done(run)` holds. */
  waitForRun(runId: string, done: (run: HeartbeatRun) => boolean, timeoutMs: number): Promise<HeartbeatRun>;
}

/** `headers`: sent with every request (e.g. the `X-Forwarded-Host` a reverse proxy in front of Paperclip adds). */
export function paperclipApi(baseUrl: string, headers: Record<string, string> = {}): PaperclipApi {
  const call = async (method: string, route: string, body?: unknown): Promise<Response> => {
    const response = await fetch(`${baseUrl}/api${route}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new PaperclipApiError(method, route, response.status, await response.text());
    return response;
  };
  const request = async (method: string, route: string, body?: unknown): Promise<unknown> =>
    (await call(method, route, body)).json();
  const object = async (method: string, route: string, body?: unknown): Promise<JsonObject> => {
    const value = await request(method, route, body);
    if (!isJsonObject(value)) throw new Error(`${method} ${route} did not answer an object: ${JSON.stringify(value)}`);
    return value;
  };
  const api: PaperclipApi = {
    request,
    text: async (route) => (await call("GET", route)).text(),
    installAdapter: (packageDir) => object("POST", "/adapters/install", { packageName: packageDir, isLocalPath: true }),
    createCompany: async (name) => readString(await object("POST", "/companies", { name }), "id", "company"),
    createAgent: async (companyId, agent) =>
      readString(await object("POST", `/companies/${companyId}/agents`, agent), "id", "agent"),
    createIssue: async (companyId, title, assigneeAgentId) =>
      readString(await object("POST", `/companies/${companyId}/issues`, { title, assigneeAgentId, status: "todo" }), "id", "issue"),
    runsOf: async (companyId, agentId) => {
      const runs = await request("GET", `/companies/${companyId}/heartbeat-runs?agentId=${agentId}`);
      if (!Array.isArray(runs)) throw new Error(`heartbeat runs of ${agentId} are not a list: ${JSON.stringify(runs).slice(0, 500)}`);
      return runs.map((run) => asRun(run, "heartbeat run"));
    },
    updateAdapterConfig: async (agentId, adapterConfig) => {
      await call("PATCH", `/agents/${agentId}`, { adapterConfig, replaceAdapterConfig: true });
    },
    wake: async (agentId, taskId, options = { reconcile: true }) => {
      // Right after a run of the task ends, Paperclip still holds the task's execution lock for a moment (the
      // task names that run); a wake then is deferred or skipped. Wait for the release, then wake.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const task = await object("GET", `/issues/${taskId}`);
        if (typeof task.executionRunId !== "string") {
          const answer = await object("POST", `/agents/${agentId}/wakeup`, {
            source: "on_demand",
            triggerDetail: "manual",
            reason: "paperclip-e2e",
            payload: { issueId: taskId },
          });
          // Paperclip holds a task whose run failed after its agent may have worked (no evidence it never started), and
          // any task after repeated failures, until it is reconciled: done here as the board would, unless told not to.
          const reconcile = answer.status === "skipped" && answer.reason === "execution_reconciliation_required";
          if (reconcile && !options.reconcile) throw new Error(`Paperclip holds task ${taskId} for reconciliation: ${JSON.stringify(answer)}`);
          if (reconcile && typeof answer.executionRunId === "string" && Date.now() <= deadline) {
            await api.reconcileLostRun(taskId, answer.executionRunId, "paperclip-e2e: the run did not start a Job; nothing to undo.");
          } else if (answer.status !== "skipped" || answer.reason !== "issue_execution_deferred" || Date.now() > deadline) {
            return asRun(answer, "wakeup answer");
          }
        } else if (Date.now() > deadline) {
          throw new Error(`task ${taskId} is still held by run ${task.executionRunId}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    run: async (runId) => asRun(await request("GET", `/heartbeat-runs/${runId}`), "heartbeat run"),
    runLog: async (runId) => {
      const chunks: string[] = [];
      for (let offset = 0; ; ) {
        let page: JsonObject;
        try {
          page = await object("GET", `/heartbeat-runs/${runId}/log?offset=${offset}`);
        } catch (error) {
          // A run that has not logged anything yet has no log file.
          if (error instanceof PaperclipApiError && error.status === 404 && offset === 0) return "";
          throw error;
        }
        const content = typeof page.content === "string" ? page.content : "";
        chunks.push(content);
        const next = typeof page.nextOffset === "number" ? page.nextOffset : null;
        if (next === null || next <= offset || content.length === 0) break;
        offset = next;
      }
      return chunks.join("");
    },
    cancel: async (runId) => {
      await call("POST", `/heartbeat-runs/${runId}/cancel`, {});
    },
    reconcileLostRun: async (taskId, runId, evidence) => {
      await call("POST", `/issues/${taskId}/recovery-actions/resolve`, {
        outcome: "restored",
        sourceIssueStatus: "todo",
        executionReconciliation: { runId, providerStopped: true, actionOutcome: "not_performed", outcomeEvidence: evidence },
      });
    },
    waitForRun: async (runId, done, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      let last = await api.run(runId);
      while (!done(last)) {
        if (Date.now() > deadline) throw new Error(`run ${runId} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last).slice(0, 3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
        last = await api.run(runId);
      }
      return last;
    },
  };
  return api;
}
