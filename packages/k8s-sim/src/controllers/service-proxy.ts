import net from "node:net";
import { objectAt, objectsAt, stringAt } from "../api/json.ts";
import type { ObjectStore } from "../store.ts";
import { SERVICE_NAME_LABEL } from "./endpointslice-controller.ts";
import type { ReconcileErrorHandler } from "./reconcile-loop.ts";
import { ReconcileLoop, objectKey, splitObjectKey } from "./reconcile-loop.ts";

const COMPONENT = "kube-proxy";
/** Pods share the host's network in the sim: a pod's port is on the loopback address. */
const POD_HOST = "127.0.0.1";

interface Listener {
  server: net.Server;
  /** The Service port as it was when the listener opened (a change reopens it). */
  port: string;
}

/**
 * The sim's kube-proxy: for each TCP port of each Service with a ClusterIP it listens on
 * `<clusterIP>:<port>` (the ClusterIP range is on loopback, see api/cluster-ip.ts) and forwards
 * every connection to a ready endpoint of the Service's EndpointSlices, at the endpoint's port on
 * 127.0.0.1 (pods share the host's network). With no ready endpoint the connection is reset.
 */
export class ServiceProxy {
  private readonly store: ObjectStore;
  private readonly loop: ReconcileLoop;
  /** Service key → port key (`<port>/<protocol>`) → listener. */
  private readonly listeners = new Map<string, Map<string, Listener>>();
  private readonly sockets = new Set<net.Socket>();

  constructor(store: ObjectStore, options: { onError?: ReconcileErrorHandler } = {}) {
    this.store = store;
    this.loop = new ReconcileLoop({ controller: COMPONENT, reconcile: (key) => this.sync(key), onError: options.onError });
  }

  start(): void {
    this.loop.listen(this.store, "services", (event) => this.loop.enqueue(objectKey(event.object.metadata.namespace, event.object.metadata.name)));
    for (const service of this.store.list("services").items) this.loop.enqueue(objectKey(service.metadata.namespace, service.metadata.name));
  }

  async stop(): Promise<void> {
    this.loop.stop();
    for (const socket of this.sockets) socket.destroy();
    const servers = [...this.listeners.values()].flatMap((ports) => [...ports.values()].map((listener) => listener.server));
    this.listeners.clear();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private sync(key: string): void {
    const { namespace, name } = splitObjectKey(key);
    const service = this.store.get("services", namespace, name);
    const spec = objectAt(service, "spec");
    const ip = stringAt(spec, "clusterIP");
    const wanted = new Map<string, string>();
    if (service && ip && ip !== "None") {
      for (const port of objectsAt(spec, "ports")) {
        if ((stringAt(port, "protocol") ?? "TCP") === "TCP") wanted.set(`${String(port.port)}/TCP`, JSON.stringify(port));
      }
    }
    const open = this.listeners.get(key) ?? new Map<string, Listener>();
    for (const [portKey, listener] of open) {
      if (wanted.get(portKey) === listener.port) continue;
      listener.server.close();
      open.delete(portKey);
    }
    for (const [portKey, port] of wanted) {
      if (open.has(portKey) || !ip) continue;
      open.set(portKey, { server: this.listen(namespace, name, ip, Number(portKey.split("/")[0])), port });
    }
    if (open.size > 0) this.listeners.set(key, open);
    else this.listeners.delete(key);
  }

  private listen(namespace: string, name: string, ip: string, port: number): net.Server {
    const server = net.createServer((client) => this.forward(namespace, name, port, client));
    server.on("error", (error) => console.error(`[k8s-sim ${COMPONENT}] service ${namespace}/${name}: cannot listen on ${ip}:${port}:`, error));
    server.listen(port, ip);
    return server;
  }

  private forward(namespace: string, name: string, port: number, client: net.Socket): void {
    this.sockets.add(client);
    client.once("close", () => this.sockets.delete(client));
    const backend = this.pickBackend(namespace, name, port);
    if (backend === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(backend, POD_HOST);
    this.sockets.add(upstream);
    upstream.once("close", () => this.sockets.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.once("error", () => client.resetAndDestroy());
    client.once("error", () => upstream.destroy());
  }

  /** The port of a ready endpoint of the Service's slices for this Service port (picked at random, as iptables mode does), if any. */
  private pickBackend(namespace: string, name: string, port: number): number | undefined {
    const spec = objectAt(this.store.get("services", namespace, name), "spec");
    const portName = stringAt(objectsAt(spec, "ports").find((candidate) => candidate.port === port), "name") ?? "";
    const backends: number[] = [];
    for (const slice of this.store.list("endpointslices", { namespace, filter: (slice) => slice.metadata.labels?.[SERVICE_NAME_LABEL] === name }).items) {
      const target = objectsAt(slice, "ports").find((candidate) => (stringAt(candidate, "name") ?? "") === portName)?.port;
      if (typeof target !== "number") continue;
      for (const endpoint of objectsAt(slice, "endpoints")) if (objectAt(endpoint, "conditions")?.ready === true) backends.push(target);
    }
    return backends[Math.floor(Math.random() * backends.length)];
  }
}
