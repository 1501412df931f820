/**
 * One keep-alive connection pool per cluster for every client-node call (DESIGN §8: one keep-alive connection per
 * cluster, not one per call). client-node 2.0.x builds a new undici Agent, so a new TCP (and TLS) connection, for
 * every API call and watch (`KubeConfig.applySecurityAuthentication`). `KeepAlivePool` replaces it: a pool built
 * from the options client-node's public `createDispatcherOptions` derives from the TLS material, kept while they stay
 * the same and replaced (the old pool closed once its requests are done) when they change, e.g. when an exec
 * plugin rotates the client certificate.
 */
import { createHash } from "node:crypto";
import type { AgentOptions, RequestOptions } from "node:https";
import type { DispatcherOptions } from "@kubernetes/client-node";
import { Agent, type Dispatcher, ProxyAgent } from "undici";

/** The TLS fields of request options that client-node puts into its per-call agent. */
export function tlsMaterial(options: RequestOptions): AgentOptions {
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
  const material: AgentOptions = {};
  for (const [name, value] of Object.entries({ ca, cert, key, pfx, passphrase, servername })) {
    if (value !== undefined) Reflect.set(material, name, value);
  }
  // Left out unless set: undici then follows NODE_TLS_REJECT_UNAUTHORIZED, as client-node's own agent does.
  if (rejectUnauthorized !== undefined) material.rejectUnauthorized = rejectUnauthorized;
  return material;
}

type PooledOptions = Exclude<DispatcherOptions, { type: "socks" }>;

function newDispatcher(options: PooledOptions): Dispatcher | undefined {
  switch (options.type) {
    case "agent":
      return new Agent({ connect: options.connect });
    case "proxy":
      return new ProxyAgent({ uri: options.uri, requestTls: options.requestTls, connect: options.connect });
    case "none":
      return undefined; // undici's global dispatcher, itself a keep-alive pool
  }
}

export class KeepAlivePool {
  private current: { digest: string; dispatcher: Dispatcher | undefined } | undefined;

  /** The pool for requests with these options (a SOCKS proxy is client-node's to connect: its connector is not public). */
  dispatcherFor(options: PooledOptions): Dispatcher | undefined {
    const digest = createHash("sha256").update(JSON.stringify(options)).digest("hex");
    if (this.current?.digest !== digest) {
      // close() lets requests in flight finish; it only stops the old pool taking new ones.
      void this.current?.dispatcher?.close().catch(() => undefined);
      this.current = { digest, dispatcher: newDispatcher(options) };
    }
    return this.current.dispatcher;
  }

  async close(): Promise<void> {
    const dispatcher = this.current?.dispatcher;
    this.current = undefined;
    await dispatcher?.close().catch(() => undefined);
  }
}
