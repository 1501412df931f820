import { objectAt, objectsAt, stringAt } from "../api/json.ts";
import type { K8sObject, ObjectStore } from "../store.ts";

/** Services with a ClusterIP (not headless, not ExternalName): the ones that get env vars and hosts entries. */
export function servicesWithClusterIp(store: ObjectStore, namespace?: string): K8sObject[] {
  return store.list("services", {
    namespace,
    filter: (service) => {
      const ip = stringAt(objectAt(service, "spec"), "clusterIP");
      return ip !== undefined && ip !== "" && ip !== "None";
    },
  }).items;
}

const envName = (name: string) => name.toUpperCase().replace(/-/g, "_");

/**
 * The Docker-link-style variables the kubelet gives every container for each Service of its
 * namespace that exists when the container starts (`<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`,
 * `<NAME>_SERVICE_PORT_<PORT>`, `<NAME>_PORT`, `<NAME>_PORT_<n>_<PROTO>[_PROTO|_PORT|_ADDR]`),
 * none when the pod sets `enableServiceLinks: false`.
 */
export function serviceLinkEnv(store: ObjectStore, pod: K8sObject): Map<string, string> {
  const env = new Map<string, string>();
  if (objectAt(pod, "spec")?.enableServiceLinks === false) return env;
  for (const service of servicesWithClusterIp(store, pod.metadata.namespace ?? "default")) {
    const spec = objectAt(service, "spec");
    const ip = stringAt(spec, "clusterIP") ?? "";
    const prefix = envName(service.metadata.name ?? "");
    const ports = objectsAt(spec, "ports");
    const first = ports[0];
    env.set(`${prefix}_SERVICE_HOST`, ip);
    if (first) env.set(`${prefix}_SERVICE_PORT`, String(first.port));
    ports.forEach((port, index) => {
      const portName = stringAt(port, "name");
      if (portName) env.set(`${prefix}_SERVICE_PORT_${envName(portName)}`, String(port.port));
      const protocol = (stringAt(port, "protocol") ?? "TCP").toLowerCase();
      const url = `${protocol}://${ip}:${String(port.port)}`;
      if (index === 0) env.set(`${prefix}_PORT`, url);
      const link = `${prefix}_PORT_${String(port.port)}_${protocol.toUpperCase()}`;
      env.set(link, url);
      env.set(`${link}_PROTO`, protocol);
      env.set(`${link}_PORT`, String(port.port));
      env.set(`${link}_ADDR`, ip);
    });
  }
  return env;
}
