/**
 * A GET that returns the response's JSON as sent, through the client set's credentials and TLS
 * settings. The generated API classes turn responses into model classes (`Date` timestamps);
 * where raw JSON is needed alongside watch events, use this.
 */
import { ApiException, HttpMethod, RequestContext, createConfiguration } from "@kubernetes/client-node";
import type { ClusterAccess } from "./cluster-access.ts";

const http = createConfiguration().httpApi;

/**
 * GETs `path` (e.g. `/api/v1/namespaces/x/pods`) with `query`; throws client-node's own
 * `ApiException` (code, JSON text body, headers) for a non-2xx answer, like the generated APIs.
 */
export async function getJson(
  access: ClusterAccess,
  path: string,
  query: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<unknown> {
  const url = new URL(access.server + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const request = new RequestContext(url.toString(), HttpMethod.GET);
  request.setHeaderParam("Accept", "application/json");
  if (signal) request.setSignal(signal);
  await access.kubeConfig.applySecurityAuthentication(request);
  const response = await http.send(request).toPromise();
  const text = await response.body.text();
  if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
    throw new ApiException(response.httpStatusCode, `GET ${path} failed`, text, response.headers);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`GET ${path}: the server answered HTTP ${response.httpStatusCode} with a body that is not JSON`);
  }
}
