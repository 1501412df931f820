import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { reviewAccess, reviewRules, reviewSelf } from "../auth/access-review.ts";
import { authenticate, forbidden, impersonate } from "../auth/authenticate.ts";
import type { ClusterTls } from "../auth/certificates.ts";
import type { RequestAttributes } from "../auth/rbac.ts";
import { authorize } from "../auth/rbac.ts";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { requestToken } from "../auth/token-request.ts";
import type { UserInfo } from "../auth/user.ts";
import { ANONYMOUS, CLUSTER_ADMIN } from "../auth/user.ts";
import type { FaultRules, Verb } from "../faults.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import type { RequestAccounting } from "./accounting.ts";
import { SIM_VERSION, discoveryDocument } from "./discovery.ts";
import type { HandlerResult, ResourceTarget } from "./handlers.ts";
import {
  createObject, deleteCollection, deleteOne, getObject, listBody, listPage, parseDeleteOptions, patchObject, updateObject,
} from "./handlers.ts";
import { parseLogOptions, servePodLog } from "./logs.ts";
import { patchTypeOf } from "./patch.ts";
import { PROTOBUF_MEDIA_TYPE, decodeProtobufBody } from "./protobuf-bodies.ts";
import { findResource } from "./resources.ts";
import { selectorFilter } from "./selectors.ts";
import type { SimFaultActions } from "./sim-endpoints.ts";
import { handleSimEndpoint } from "./sim-endpoints.ts";
import { ApiError, badRequest, methodNotAllowed, notFound, notFoundPath, unsupportedMediaType } from "./status.ts";
import { toTable, wantsTable } from "./table.ts";
import { serveWatch } from "./watch.ts";

export interface ApiServerOptions {
  store: ObjectStore;
  faults: FaultRules;
  requests: RequestAccounting;
  /** Where pod logs live (see pod-log-files.ts). */
  rootDir: string;
  /** Default 0: a free port. Always on 127.0.0.1. */
  port?: number;
  /** The HTTPS listener's port (default 0: a free port), also on 127.0.0.1. */
  httpsPort?: number;
  /** The HTTPS listener's certificate and key. */
  tls: ClusterTls;
  /** The admin kubeconfig's bearer token (cluster-admin). */
  adminToken: string;
  /** Authenticates service-account tokens. */
  tokens: ServiceAccountTokens;
  /**
   * How often a watch with `allowWatchBookmarks` gets a BOOKMARK, whatever else it was sent (plus one 2 s before its
   * `timeoutSeconds` deadline), as kube-apiserver's watch cache does. Default 60000, kube-apiserver's one minute;
   * 0 sends none, as a server whose watches bypass the watch cache.
   */
  bookmarkIntervalMs?: number;
  /** Pod and node actions for `POST /_sim/faults` (the cluster wires them). */
  actions?: SimFaultActions;
}

export interface ApiServer {
  /** `http://127.0.0.1:<port>`: plain HTTP, where a request without credentials is the admin. */
  url: string;
  port: number;
  /** `https://127.0.0.1:<httpsPort>`: TLS with the cluster CA, where a request without credentials is anonymous. */
  httpsUrl: string;
  httpsPort: number;
  /** Ends every open watch and log stream and stops listening. */
  close(): Promise<void>;
}

/** Parses `/api/v1/...` and `/apis/<group>/<version>/...` resource paths; undefined when not one. */
export function parseResourcePath(path: string): ResourceTarget | undefined {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1] ?? "";
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  const version = group ? parts[2] : parts[1];
  if (version === undefined) return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const namespaced = findResource(group, version, rest[2] ?? "");
    if (namespaced?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [plural = "", name, subresource, ...extra] = rest;
  const resource = findResource(group, version, plural);
  if (!resource || extra.length > 0) return undefined;
  if (resource.namespaced === false && namespace !== undefined) return undefined;
  if (subresource !== undefined && !resource.subresources.some((s) => s.name === subresource)) return undefined;
  return { resource, namespace, name, subresource };
}

function verbOf(method: string, target: ResourceTarget, query: URLSearchParams): Verb {
  const watch = query.get("watch");
  switch (method) {
    case "GET":
      if (target.name !== undefined) return "get";
      return watch === "true" || watch === "1" ? "watch" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return target.name !== undefined ? "delete" : "deletecollection";
    default:
      throw methodNotAllowed();
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

const mediaTypeOf = (contentType: string | undefined) => (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

/** A request body as JSON; the few protobuf bodies kubectl insists on are decoded, others are 415. */
async function requestBody(request: IncomingMessage, target: ResourceTarget, verb: Verb): Promise<unknown> {
  const body = await readBody(request);
  const contentType = request.headers["content-type"];
  if (mediaTypeOf(contentType) === PROTOBUF_MEDIA_TYPE) return decodeProtobufBody(body);
  return parseJson(body.toString("utf8"), verb === "patch" ? undefined : contentType);
}

/** The RBAC attributes of a resource request (a namespace's own name is its namespace, as the request-info resolver has it). */
function attributesOf(target: ResourceTarget, verb: Verb): RequestAttributes {
  const namespace = target.resource.plural === "namespaces" && target.name !== undefined ? target.name : target.namespace;
  return {
    kind: "resource",
    verb,
    apiGroup: target.resource.group,
    resource: target.resource.plural,
    subresource: target.subresource,
    name: target.name,
    namespace,
  };
}

/** Parses a JSON body; any other media type (protobuf, YAML) is 415 so clients fall back to JSON. */
function parseJson(text: string, contentType?: string): unknown {
  const mediaType = mediaTypeOf(contentType);
  if (mediaType !== "" && mediaType !== "application/json" && mediaType !== "*/*") {
    throw unsupportedMediaType();
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function send(response: ServerResponse, result: HandlerResult): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(result.body);
  response.writeHead(result.code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-cache, private",
    ...result.headers,
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: unknown): void {
  const apiError =
    error instanceof ApiError ? error : new ApiError(500, "InternalError", `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`);
  send(response, { code: apiError.code, body: apiError.toStatus(), headers: apiError.headers });
}

function intQuery(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`${name}: Invalid value: "${raw}": must be a non-negative integer`);
  return Number(raw);
}

/** The revision a watch resumes after; "" and "0" mean "start from the current state". */
function watchRevision(query: URLSearchParams): number | undefined {
  const raw = query.get("resourceVersion");
  if (raw === null || raw === "" || raw === "0") return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`resourceVersion: Invalid value: "${raw}": must be a non-negative integer`);
  return Number(raw);
}

/** kube-apiserver's `defaultBookmarkFrequency` (its watch cache). */
const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;
/** The longest delay a Node timer takes (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function bookmarkPeriodOf(value: number | undefined): number {
  if (value === undefined) return DEFAULT_BOOKMARK_INTERVAL_MS;
  if (!Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new Error(`bookmarkIntervalMs must be a whole number of milliseconds from 0 (no bookmarks) to ${MAX_TIMER_MS}, got ${value}`);
  }
  return value;
}

/** Starts the simulated Kubernetes API server on 127.0.0.1. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, faults, requests } = options;
  const bookmarkIntervalMs = bookmarkPeriodOf(options.bookmarkIntervalMs);
  const sockets = new Set<Socket>();

  const handleResource = async (request: IncomingMessage, response: ServerResponse, target: ResourceTarget, query: URLSearchParams, user: UserInfo) => {
    const method = request.method ?? "GET";
    const verb = verbOf(method, target, query);
    const resourceKey = target.subresource ? `${target.resource.plural}/${target.subresource}` : target.resource.plural;
    requests.record(verb, resourceKey, request.headers["user-agent"]);
    const allowedVerbs = target.subresource
      ? (target.resource.subresources.find((s) => s.name === target.subresource)?.verbs ?? [])
      : target.resource.verbs;
    if (!allowedVerbs.includes(verb)) throw methodNotAllowed();
    const attributes = attributesOf(target, verb);
    if (!authorize(store, user, attributes).allowed) throw forbidden(user, attributes);

    const latency = faults.latencyMs(verb, resourceKey);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = faults.takeRequestFault(verb, resourceKey);
    if (fault?.kind === "drop") {
      request.socket.destroy();
      return;
    }
    if (fault) {
      const reasons = { 500: "InternalError", 503: "ServiceUnavailable", 429: "TooManyRequests" } as const;
      const messages = {
        500: "Internal error occurred: injected fault",
        503: "the server is currently unable to handle the request",
        429: "the server has received too many requests and has asked us to try again later",
      } as const;
      const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined);
      const headers: Record<string, string> = retryAfter === undefined ? {} : { "Retry-After": String(retryAfter) };
      const details = retryAfter === undefined ? undefined : { retryAfterSeconds: retryAfter };
      throw new ApiError(fault.status, reasons[fault.status], messages[fault.status], details, headers);
    }

    const body = method === "GET" ? undefined : await requestBody(request, target, verb);
    const { name, subresource } = target;
    const asTable = wantsTable(request.headers.accept);
    const filter = () => selectorFilter(target.resource.plural, query.get("labelSelector"), query.get("fieldSelector"));

    if (target.resource.plural === "selfsubjectaccessreviews") return send(response, reviewAccess(store, user, body));
    if (target.resource.plural === "selfsubjectrulesreviews") return send(response, reviewRules(store, user, body));
    if (target.resource.plural === "selfsubjectreviews") return send(response, reviewSelf(user));
    if (subresource === "token") return send(response, requestToken(store, options.tokens, target.namespace ?? "", name ?? "", body));
    if (subresource === "log") {
      const pod = store.get("pods", target.namespace, name ?? "");
      if (!pod) throw notFound(target.resource, name ?? "");
      return servePodLog(response, store, options.rootDir, pod, parseLogOptions(query));
    }
    switch (verb) {
      case "get": {
        const result = getObject(store, target, name ?? "");
        if (!asTable || subresource !== undefined) return send(response, result);
        const object = store.get(target.resource.plural, target.namespace, name ?? "");
        return send(response, { code: 200, body: toTable(target.resource.plural, object ? [object] : [], {}, query.get("includeObject")) });
      }
      case "list": {
        const page = listPage(store, target, filter(), intQuery(query, "limit"), query.get("continue") ?? undefined);
        const body = asTable ? toTable(target.resource.plural, page.items, page.metadata, query.get("includeObject")) : listBody(target.resource, page);
        return send(response, { code: 200, body });
      }
      case "watch": {
        const watchFilter = filter();
        const sinceRevision = watchRevision(query);
        const timeoutSeconds = intQuery(query, "timeoutSeconds");
        const allowBookmarks = query.get("allowWatchBookmarks") === "true" || query.get("allowWatchBookmarks") === "1";
        let first = true;
        const present = asTable
          ? (object: K8sObject) => {
              const table = toTable(target.resource.plural, [object], {}, query.get("includeObject"), first);
              first = false;
              return table;
            }
          : undefined;
        serveWatch(
          response,
          { resource: target.resource, namespace: target.namespace, filter: watchFilter, sinceRevision, allowBookmarks, timeoutSeconds, bookmarkIntervalMs, present },
          { store, faults, requests },
        );
        return;
      }
      case "create":
        if (name !== undefined || subresource !== undefined) throw methodNotAllowed();
        return send(response, createObject(store, target, body));
      case "update":
        return send(response, updateObject(store, target, name ?? "", body));
      case "patch":
        return send(response, patchObject(store, target, name ?? "", patchTypeOf(request.headers["content-type"]), body));
      case "delete":
        return send(response, deleteOne(store, target, name ?? "", parseDeleteOptions(body, query)));
      case "deletecollection":
        return send(response, deleteCollection(store, target, filter(), parseDeleteOptions(body, query)));
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, secure: boolean) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    const method = request.method ?? "GET";
    try {
      if (path.startsWith("/_sim/")) {
        const body = method === "POST" ? parseJson((await readBody(request)).toString("utf8")) : undefined;
        return send(response, handleSimEndpoint(method, path, body, { faults, requests, actions: options.actions }));
      }
      const caller = authenticate(request.headers, {
        adminToken: options.adminToken,
        tokens: options.tokens,
        withoutCredentials: secure ? ANONYMOUS : CLUSTER_ADMIN,
      });
      // headersDistinct: repeated Impersonate-Group headers stay separate values.
      const user = impersonate(store, caller, request.headersDistinct);
      const target = parseResourcePath(path);
      if (target) return await handleResource(request, response, target, url.searchParams, user);
      requests.recordNonResource(path);
      if (method !== "GET") throw methodNotAllowed();
      const attributes: RequestAttributes = { kind: "nonResource", verb: "get", path };
      if (!authorize(store, user, attributes).allowed) throw forbidden(user, attributes);
      if (path === "/version") return send(response, { code: 200, body: SIM_VERSION });
      if (/^\/(healthz|readyz|livez)(\/.*)?$/.test(path)) {
        response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
        response.end("ok");
        return;
      }
      const document = discoveryDocument(path, `127.0.0.1:${request.socket.localPort ?? 0}`);
      if (document !== undefined) return send(response, { code: 200, body: document });
      throw notFoundPath();
    } catch (error) {
      sendError(response, error);
    }
  };

  const listen = async (server: Server, port: number): Promise<number> => {
    // The raw TCP connection (also under TLS): destroyed on close so streams end at once.
    server.on("connection", (socket) => {
      requests.connectionOpened();
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the API server did not get a TCP address");
    return address.port;
  };
  const server = createServer((request, response) => {
    void handle(request, response, false);
  });
  const secureServer = createHttpsServer({ cert: options.tls.serverCertPem, key: options.tls.serverKeyPem }, (request, response) => {
    void handle(request, response, true);
  });
  const port = await listen(server, options.port ?? 0);
  let httpsPort: number;
  try {
    httpsPort = await listen(secureServer, options.httpsPort ?? 0);
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    httpsUrl: `https://127.0.0.1:${httpsPort}`,
    httpsPort,
    close: async () => {
      const closed = Promise.all([server, secureServer].map((each) => new Promise<void>((resolve) => each.close(() => resolve()))));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
