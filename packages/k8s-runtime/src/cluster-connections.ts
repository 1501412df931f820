/**
 * One keep-alive connection pool per cluster for every client-node call (DESIGN §8: one keep-alive connection per
 * cluster, not one per call). client-node 2.0.x builds a new undici Agent, so a new TCP (and TLS) connection, for
 * every API call and watch (`KubeConfig.applySecurityAuthentication`). `KeepAlivePool` replaces it: a pool built
 * from the options client-node's public `createDispatcherOptions` derives from the TLS material, kept while they stay
 * the same and replaced (the old pool closed once its requests are done) when they change, e.g. when an exec
 * plugin rotates the client certificate. Calls share a few connections (a burst of runs queues briefly rather
 * than opening a connection per call); each watch, a stream that holds its connection, gets one of its own from
 * a second pool, so watches never starve calls.
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

/** Connections the calls of one cluster share; a call beyond them waits for one to be free. */
export const CALL_CONNECTIONS = 8;

/** What a request is: a call gets its answer and frees the connection; a watch streams on it until it ends. */
export type RequestKind = "call" | "watch";

function newDispatcher(options: PooledOptions, kind: RequestKind): Dispatcher {
  const connections = kind === "call" ? CALL_CONNECTIONS : null;
  switch (options.type) {
    case "agent":
      return new Agent({ connect: options.connect, connections });
    case "proxy":
      return new ProxyAgent({ uri: options.uri, requestTls: options.requestTls, connect: options.connect, connections });
    case "none":
      return new Agent({ connections });
  }
}

export class KeepAlivePool {
  private current: { digest: string; pools: Record<RequestKind, Dispatcher> } | undefined;

  /** The pool for requests with these options (a SOCKS proxy is client-node's to connect: its connector is not public). */
  dispatcherFor(options: PooledOptions, kind: RequestKind): Dispatcher {
    const digest = createHash("sha256").update(JSON.stringify(options)).digest("hex");
    if (this.current?.digest !== digest) {
      // close() lets requests in flight finish; it only stops the old pools taking new ones.
      void this.close();
      this.current = { digest, pools: { call: newDispatcher(options, "call"), watch: newDispatcher(options, "watch") } };
    }
    return this.current.pools[kind];
  }

  async close(): Promise<void> {
    const pools = this.current?.pools;
    this.current = undefined;
    if (pools) await Promise.all(Object.values(pools).map((pool) => pool.close().catch(() => undefined)));
  }
}
