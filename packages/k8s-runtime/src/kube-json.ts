/**
 * One Kubernetes API request as plain JSON on the cluster's keep-alive pool: for the calls every run makes
 * (`run-object-api.ts`), where client-node's generated clients cost about three times the CPU of the request itself
 * (their model (de)serialization and request pipeline). The caller's object is sent as `JSON.stringify` makes it and
 * an answer is parsed only when the caller reads it.
 *
 * What must not differ from the generated clients does not: the request is authenticated by the kubeConfig's own
 * `applySecurityAuthentication`, the path every generated call takes (bearer tokens, rotating token files, exec
 * plugins, client certificates, and the pool's dispatcher: `cluster-access.ts`), and a non-2xx answer throws the
 * `ApiException` they throw (code, the body as text, the headers), so `retry-policy.ts` and every message built
 * from an error treat both alike.
 */
import { ApiException, HttpMethod, type KubeConfig, RequestContext } from "@kubernetes/client-node";
import { type Dispatcher, request } from "undici";
import { flatHeaders } from "./client-node-http.ts";

export type KubeJsonMethod = typeof HttpMethod.POST | typeof HttpMethod.PATCH | typeof HttpMethod.DELETE;

export interface KubeJsonRequest {
  method: KubeJsonMethod;
  /** From the server's root, path segments encoded, with the query if any: `/api/v1/namespaces/x/secrets`. */
  path: string;
  /** Sent as JSON; none when undefined. */
  body?: unknown;
  /** Default `application/json`; a merge patch is `application/merge-patch+json`. */
  contentType?: string;
}

/** What the generated clients ask for. */
const ACCEPT = "application/json, */*;q=0.8";

/**
 * A request to `url` as the kubeConfig's own `applySecurityAuthentication` makes it: its headers (credentials, our
 * User-Agent) and the cluster pool's dispatcher (a watch's own pool when the URL says `watch=true`).
 */
export async function authenticatedRequest(
  kubeConfig: KubeConfig,
  url: string,
  method: HttpMethod,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher | undefined }> {
  const context = new RequestContext(url, method);
  context.setHeaderParam("Accept", ACCEPT);
  for (const [name, value] of Object.entries(headers)) context.setHeaderParam(name, value);
  await kubeConfig.applySecurityAuthentication(context);
  return { headers: context.getHeaders(), dispatcher: context.getDispatcher() };
}

export class KubeJson {
  private readonly kubeConfig: KubeConfig;
  /** The API server URL, as the generated clients' base server. */
  private readonly server: string;

  constructor(kubeConfig: KubeConfig, server: string) {
    this.kubeConfig = kubeConfig;
    this.server = server;
  }

  /** Sends the request; its answer parsed as JSON. */
  async call(call: KubeJsonRequest): Promise<unknown> {
    const body = await this.send(call);
    return JSON.parse(await body.text());
  }

  /** Sends the request; its answer is drained unread (the connection goes back to the pool). */
  async callIgnoringAnswer(call: KubeJsonRequest): Promise<void> {
    const body = await this.send(call);
    await body.dump();
  }

  private async send(call: KubeJsonRequest) {
    const url = this.server + call.path;
    const { headers, dispatcher } = await authenticatedRequest(this.kubeConfig, url, call.method, {
      "Content-Type": call.contentType ?? "application/json",
    });
    const response = await request(url, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      dispatcher,
      // undici closes a connection after a DELETE with a body (a method it does not expect one on), which cost a new
      // connection (a TLS handshake) per run; the API server reads the DeleteOptions body, so the connection stays good.
      reset: false,
    });
    const { statusCode, body } = response;
    if (statusCode >= 200 && statusCode <= 299) return body;
    const answerHeaders = flatHeaders(response.headers);
    // As the generated clients answer: a 401 without its body (the spec declares none), anything else with it as text.
    if (statusCode === 401) {
      await body.dump();
      throw new ApiException<undefined>(statusCode, "Unauthorized", undefined, answerHeaders);
    }
    throw new ApiException<string>(statusCode, "Unknown API Status Code!", await body.text(), answerHeaders);
  }
}
