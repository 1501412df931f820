import net from "node:net";
import { objectAt, objectsAt, stringAt, stringMapAt } from "../api/json.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { isPodReady, podNodeName } from "./pods.ts";
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
 * every connection to a ready pod the Service selects, at its `targetPort` (a number, or a
 * container port name) on 127.0.0.1. With no ready backend the connection is refused (reset).
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

  /** The target port of a ready pod the Service selects (picked at random, as iptables mode does), if any. */
  private pickBackend(namespace: string, name: string, port: number): number | undefined {
    const service = this.store.get("services", namespace, name);
    const spec = objectAt(service, "spec");
    const selector = stringMapAt(spec, "selector");
    if (Object.keys(selector).length === 0) return undefined;
    const servicePort = objectsAt(spec, "ports").find((candidate) => candidate.port === port);
    const targetPort = servicePort?.targetPort ?? port;
    const backends = this.store
      .list("pods", {
        namespace,
        filter: (pod) =>
          Object.entries(selector).every(([key, value]) => pod.metadata.labels?.[key] === value) &&
          podNodeName(pod) !== undefined &&
          !pod.metadata.deletionTimestamp &&
          isPodReady(pod),
      })
      .items.map((pod) => resolveTargetPort(pod, targetPort))
      .filter((candidate) => candidate !== undefined);
    return backends[Math.floor(Math.random() * backends.length)];
  }
}

/** A numeric targetPort as is; a named one is the container port of that name in the pod. */
function resolveTargetPort(pod: K8sObject, targetPort: unknown): number | undefined {
  if (typeof targetPort === "number") return targetPort;
  for (const container of objectsAt(objectAt(pod, "spec"), "containers")) {
    const found = objectsAt(container, "ports").find((port) => port.name === targetPort);
    if (typeof found?.containerPort === "number") return found.containerPort;
  }
  return undefined;
}
