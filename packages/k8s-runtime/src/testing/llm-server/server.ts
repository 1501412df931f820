/**
 * A scripted LLM on 127.0.0.1 for running the real agent CLIs offline. A run is opened first (`openRun`: its
 * scenario, a tag, and the shell tool its CLI offers) and gets its base URL, `http://127.0.0.1:<port>/s/<scenario>~<tag>`:
 * the scenario says what the model answers, the tag keeps one run's requests apart from another's and selects
 * the run's shell tool. The dialect is chosen by endpoint (`dialects.ts`). Every request is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { isJsonObject, type JsonObject } from "../../agent-kit/json-fields.ts";
import { dialectFor, type LlmDialect } from "./dialects.ts";
import { decideReply, isLlmScenario, LLM_SCENARIOS, type ApiErrorReply, type LlmScenario, type ScriptedShellTool, type StreamPacing } from "./scenario.ts";
import { roughTokens, type ContentReply, type RenderedStream, type WireFormat } from "./wire.ts";

export interface LlmRequestRecord {
  seq: number;
  method: string;
  /** Path and query as sent, e.g. `/s/happy~t1/v1/messages?beta=true`. */
  url: string;
  scenario: LlmScenario | null;
  tag: string | null;
  /** The dialect that served it, `count_tokens` for Anthropic's token counting, or null when none did. */
  api: LlmDialect | "count_tokens" | null;
  model: string | null;
  stream: boolean | null;
  messageCount: number;
  toolCount: number;
  /** The request's last message is a tool's result (so a text reply is the turn's final text). */
  afterToolResult: boolean;
  status: number;
  /** What the script answered: `tool:<name>`, `text`, `empty`, `error`, or null for requests it does not serve. */
  reply: string | null;
}

export interface ScriptedLlmServerOptions {
  /** Pause before each event of a `slow` stream. Default 150 ms. */
  slowEventMs?: number;
  /** `retry-after-ms` on error replies, so CLI retries stay quick. Default 20 ms. */
  retryAfterMs?: number;
}

/** One run's script. */
export interface ScriptedRun {
  scenario: LlmScenario;
  /** Unique per run (letters, digits, `.`, `_`, `-`). */
  tag: string;
  /** The tool the run's CLI runs shell commands with: what the model's tool calls name. */
  shellTool: ScriptedShellTool;
}

export interface ScriptedLlmServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /**
   * Opens a run and returns its base URL, without a trailing slash (Anthropic clients take it as is;
   * OpenAI-style clients add `/v1`). A tag is opened once.
   */
  openRun(run: ScriptedRun): string;
  /** Requests seen so far, in order; only one run's when `tag` is given. */
  requests(tag?: string): LlmRequestRecord[];
  /** Closes the server and every open connection (stalled streams included). */
  stop(): Promise<void>;
}

const TAG = /^[A-Za-z0-9._-]+$/;
const RUN_PATH = /^\/s\/([^/~]+)~([^/]+)(\/.*)?$/;

function sendJson(response: ServerResponse, status: number, body: JsonObject, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

function notFound(response: ServerResponse, message: string): void {
  sendJson(response, 404, { type: "error", error: { type: "not_found_error", message } });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

export async function startScriptedLlmServer(options: ScriptedLlmServerOptions = {}): Promise<ScriptedLlmServer> {
  const slowEventMs = options.slowEventMs ?? 150;
  const retryAfterMs = options.retryAfterMs ?? 20;
  const records: LlmRequestRecord[] = [];
  const finalTextsSent = new Map<string, number>();
  const shellTools = new Map<string, ScriptedShellTool>();
  const stopping = new AbortController();

  async function writeStream(response: ServerResponse, rendered: RenderedStream, pacing: StreamPacing): Promise<void> {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const stopAt = pacing === "stall" || pacing === "cut" ? rendered.firstDeltaIndex + 1 : rendered.frames.length;
    for (const frame of rendered.frames.slice(0, stopAt)) {
      if (pacing === "paced") await delay(slowEventMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      if (response.destroyed || stopping.signal.aborted) return;
      response.write(frame);
    }
    if (pacing === "cut") {
      // Only once what was written has left, or the client would see no stream at all.
      await new Promise<void>((resolve) => response.write("", () => resolve()));
      response.socket?.destroy();
    }
    // A stalled stream stays open until the client goes away or the server stops.
    else if (pacing !== "stall") response.end();
  }

  async function serveModel(
    format: WireFormat,
    endpoint: string,
    body: JsonObject,
    run: { scenario: LlmScenario; runKey: string; shellTool: ScriptedShellTool },
    record: LlmRequestRecord,
    response: ServerResponse,
  ): Promise<void> {
    const { scenario, runKey, shellTool } = run;
    const request = format.readRequest(body, endpoint);
    Object.assign(record, {
      model: request.model,
      stream: request.stream,
      messageCount: request.messageCount,
      toolCount: request.conversation.toolNames.length,
      afterToolResult: request.conversation.endsWithToolResult,
    });
    const sent = finalTextsSent.get(runKey) ?? 0;
    const reply = decideReply(scenario, request.conversation, { retryAfterMs, shellTool, finalTextStreamsSent: sent });
    if (reply.kind === "error") {
      record.reply = "error";
      record.status = reply.status;
      sendError(format, reply, response);
      return;
    }
    if (reply.kind === "text" && request.conversation.endsWithToolResult) finalTextsSent.set(runKey, sent + 1);
    record.reply = reply.kind === "tool" ? `tool:${reply.toolName}` : reply.kind;
    record.status = 200;
    const context = { model: request.model ?? "scripted-model", inputTokens: roughTokens(JSON.stringify(body)) };
    if (!request.stream) {
      sendJson(response, 200, format.renderJson(reply, context));
      return;
    }
    await writeStream(response, format.renderStream(reply, context), pacingOf(reply));
  }

  function sendError(format: WireFormat, reply: ApiErrorReply, response: ServerResponse): void {
    sendJson(response, reply.status, format.renderError(reply), reply.headers);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? "/";
    const record: LlmRequestRecord = {
      seq: records.length + 1,
      method: request.method ?? "GET",
      url,
      scenario: null,
      tag: null,
      api: null,
      model: null,
      stream: null,
      messageCount: 0,
      toolCount: 0,
      afterToolResult: false,
      status: 404,
      reply: null,
    };
    records.push(record);
    const match = RUN_PATH.exec(new URL(url, "http://127.0.0.1").pathname);
    if (match === null) return notFound(response, `no run in ${url}; base URLs look like /s/<scenario>~<tag>`);
    const [, scenario = "", tag = "", endpoint = ""] = match;
    record.tag = tag;
    if (!isLlmScenario(scenario)) return notFound(response, `unknown scenario ${JSON.stringify(scenario)}; known: ${LLM_SCENARIOS.join(", ")}`);
    record.scenario = scenario;
    const shellTool = shellTools.get(tag);
    if (shellTool === undefined) return notFound(response, `run tag ${JSON.stringify(tag)} was not opened (openRun)`);
    if (request.method !== "POST") return notFound(response, `${request.method} ${endpoint || "/"} is not served`);

    let body: unknown;
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      record.status = 400;
      return sendJson(response, 400, { type: "error", error: { type: "invalid_request_error", message: "request body is not JSON" } });
    }
    if (!isJsonObject(body)) {
      record.status = 400;
      return sendJson(response, 400, { type: "error", error: { type: "invalid_request_error", message: "request body is not a JSON object" } });
    }
    if (endpoint === "/v1/messages/count_tokens") {
      record.api = "count_tokens";
      record.status = 200;
      return sendJson(response, 200, { input_tokens: roughTokens(JSON.stringify(body)) });
    }
    const route = dialectFor(endpoint);
    if (route === null) return notFound(response, `POST ${endpoint || "/"} is not served`);
    record.api = route.dialect;
    return serveModel(route.wire, endpoint, body, { scenario, runKey: `${scenario}~${tag}`, shellTool }, record, response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { type: "error", error: { type: "api_error", message: String(error) } });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the scripted LLM server has no TCP address");
  const origin = `http://127.0.0.1:${address.port}`;

  return {
    origin,
    openRun: ({ scenario, tag, shellTool }) => {
      if (!TAG.test(tag)) throw new Error(`run tag ${JSON.stringify(tag)} must match ${TAG.source}`);
      if (shellTools.has(tag)) throw new Error(`run tag ${JSON.stringify(tag)} is already open`);
      shellTools.set(tag, shellTool);
      return `${origin}/s/${scenario}~${tag}`;
    },
    requests: (tag) => records.filter((record) => tag === undefined || record.tag === tag).map((record) => ({ ...record })),
    stop: async () => {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function pacingOf(reply: ContentReply): StreamPacing {
  return reply.kind === "empty" ? "whole" : reply.pacing;
}
