/**
 * How client-node's generated API clients send their requests: undici's `request` on the cluster's keep-alive pool
 * (`cluster-connections.ts`), instead of the `fetch` client-node uses by default. `fetch` wraps every response in a
 * WHATWG stream that the generated code reads back as text: per call a stack of promises and stream objects that
 * profiling showed as a large share of the runtime's fixed cost per run (5 calls each). `request` hands the body
 * over as a Node stream read straight to text. Watches do the same in `watch-stream.ts`.
 */
import { ResponseContext, wrapHttpLibrary, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";
import { request } from "undici";

function bodyOf(context: RequestContext): string | undefined {
  const body = context.getBody();
  if (body === undefined || typeof body === "string") return body;
  if (body instanceof URLSearchParams) return body.toString();
  // The runtime sends JSON only; multipart bodies would need their own encoding.
  throw new Error(`${context.getHttpMethod()} ${new URL(context.getUrl()).pathname}: a multipart request body is not supported`);
}

/** Response headers as client-node hands them to its callers and errors: one string per (lower-cased) name. */
export function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

async function send(context: RequestContext): Promise<ResponseContext> {
  const response = await request(context.getUrl(), {
    method: context.getHttpMethod(),
    headers: context.getHeaders(),
    body: bodyOf(context),
    signal: context.getSignal(),
    dispatcher: context.getDispatcher(),
  });
  const { body } = response;
  return new ResponseContext(response.statusCode, flatHeaders(response.headers), {
    text: () => body.text(),
    binary: async () => Buffer.from(await body.arrayBuffer()),
    // No generated API of the runtime streams a response; the Node stream is not a WHATWG one.
    stream: () => null,
  });
}

export const undiciHttpLibrary: HttpLibrary = wrapHttpLibrary({ send });
