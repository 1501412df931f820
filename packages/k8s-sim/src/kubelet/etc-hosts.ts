import { objectAt, stringAt } from "../api/json.ts";
import type { K8sObject } from "../store.ts";

/** Cluster DNS suffix of Service names. */
const CLUSTER_DOMAIN = "cluster.local";

/**
 * The `/etc/hosts` the kubelet mounts into each container of a pod. The real one maps localhost
 * and the pod's own hostname; the sim has no cluster DNS, so it also lists every Service with a
 * ClusterIP under its DNS names (`<svc>.<ns>.svc.cluster.local`, `<svc>.<ns>.svc`, `<svc>.<ns>`,
 * and the bare `<svc>` for the pod's own namespace, which the DNS search path gives on a cluster).
 * Pods share the host's network, so the pod's hostname maps to the loopback address.
 */
export function renderHostsFile(podName: string, namespace: string, services: readonly K8sObject[]): string {
  const lines = [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
    `127.0.0.1\t${podName}`,
    "",
    "# Services (the sim has no cluster DNS; the kubelet keeps these entries current).",
  ];
  for (const service of services) {
    const name = service.metadata.name ?? "";
    const serviceNamespace = service.metadata.namespace ?? "default";
    const ip = stringAt(objectAt(service, "spec"), "clusterIP") ?? "";
    const names = [`${name}.${serviceNamespace}.svc.${CLUSTER_DOMAIN}`, `${name}.${serviceNamespace}.svc`, `${name}.${serviceNamespace}`];
    if (serviceNamespace === namespace) names.push(name);
    lines.push(`${ip}\t${names.join(" ")}`);
  }
  return `${lines.join("\n")}\n`;
}
