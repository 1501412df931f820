import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RequestAccounting } from "./api/accounting.ts";
import { randomServiceCidr, storeServiceCidr } from "./api/cluster-ip.ts";
import { createObject } from "./api/handlers.ts";
import { resourceByPlural } from "./api/resources.ts";
import type { ApiServer } from "./api/server.ts";
import { startApiServer } from "./api/server.ts";
import type { SimFaultActions } from "./api/sim-endpoints.ts";
import { dns1123LabelErrors, dns1123SubdomainErrors } from "./api/validation.ts";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "./auth/bootstrap-policy.ts";
import { createClusterTls } from "./auth/certificates.ts";
import { ServiceAccountTokens } from "./auth/service-account-tokens.ts";
import { GarbageCollector } from "./controllers/garbage-collector.ts";
import { AttachDetachController } from "./controllers/attach-detach-controller.ts";
import { DeploymentController } from "./controllers/deployment-controller.ts";
import { EndpointSliceController } from "./controllers/endpointslice-controller.ts";
import { JobController } from "./controllers/job-controller.ts";
import { NamespaceController } from "./controllers/namespace-controller.ts";
import { NamespaceDefaultsController } from "./controllers/namespace-defaults.ts";
import { PodGarbageCollector } from "./controllers/pod-gc.ts";
import { ReplicaSetController } from "./controllers/replicaset-controller.ts";
import { Scheduler } from "./controllers/scheduler.ts";
import { ServiceProxy } from "./controllers/service-proxy.ts";
import { TtlAfterFinishedController } from "./controllers/ttl-after-finished.ts";
import { deleteObject } from "./deletion.ts";
import { FaultRules } from "./faults.ts";
import { Kubelet } from "./kubelet/kubelet.ts";
import { pvcHostPath } from "./kubelet/volumes.ts";
import { ObjectStore } from "./store.ts";

export interface SimNodeSpec {
  name: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  allocatable?: { cpu?: string; memory?: string; pods?: string };
}

export interface SimClusterOptions {
  /** Where logs, volumes and the kubeconfig live. Default: a new temp dir, removed on stop. */
  rootDir?: string;
  /** API server port (plain HTTP) on 127.0.0.1. Default 0 (a free port). */
  port?: number;
  /** API server HTTPS port on 127.0.0.1. Default 0 (a free port). */
  httpsPort?: number;
  /**
   * Make `url` and the kubeconfig point at the HTTPS listener, verified with the cluster CA
   * (`certificate-authority-data`). Default false: plain HTTP, as the older tests expect.
   */
  tls?: boolean;
  /** Default: one node `sim-node-1` with 8 CPU, 32Gi, 110 pods. */
  nodes?: SimNodeSpec[];
  /** Image reference → host directories of executables (the image's filesystem). */
  images?: Record<string, string | string[]>;
  /** Run unregistered images with the host PATH instead of failing the pull. Default false. */
  acceptAnyImage?: boolean;
  /** How often a watch (with allowWatchBookmarks) gets a BOOKMARK. Default 60000 ms, as kube-apiserver; 0: never. */
  bookmarkIntervalMs?: number;
  /** Default `<rootDir>/kubeconfig`. */
  kubeconfigPath?: string;
}

/** A kubeconfig as plain JSON (kubectl and client-node's `loadFromString` read it as is). */
export interface KubeconfigObject {
  apiVersion: "v1";
  kind: "Config";
  clusters: { name: string; cluster: { server: string; "insecure-skip-tls-verify": true } | { server: string; "certificate-authority-data": string } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace: string } }[];
  "current-context": string;
  preferences: Record<string, never>;
}

/** What every controller in the cluster provides. */
interface SimController {
  start(): void;
  stop(): Promise<void>;
}

export interface SimCluster {
  /** The URL the kubeconfig uses: `httpsUrl` with `tls: true`, else the plain-HTTP one. */
  url: string;
  /** The HTTPS listener (always on): what pods reach as `KUBERNETES_SERVICE_HOST` / `_PORT`. */
  httpsUrl: string;
  /** The cluster CA (PEM) that signed the API server's certificate. */
  caCertPem: string;
  /** A token for a service account, as `kubectl create token` gives (not bound to a pod). */
  serviceAccountToken(namespace: string, name: string, lifetimeSeconds?: number): string;
  kubeconfigPath: string;
  kubeconfig: KubeconfigObject;
  /** The admin kubeconfig for the HTTPS listener (with the CA), whatever `tls` says. */
  httpsKubeconfig: KubeconfigObject;
  store: ObjectStore;
  faults: FaultRules & SimFaultActions;
  requests: RequestAccounting;
  rootDir: string;
  registerImage(reference: string, hostDirs: string | string[]): void;
  /** `<rootDir>/pvcs/<namespace>/<claimName>`, created on demand. */
  pvcHostPath(namespace: string, claimName: string): string;
  /** Stops every controller (the kubelet kills every process), closes the server and its streams, removes a temp rootDir. */
  stop(): Promise<void>;
}

const DEFAULT_NODE: SimNodeSpec = { name: "sim-node-1" };
const KUBECONFIG_NAME = "sim";

function nodeObject(spec: SimNodeSpec): Record<string, unknown> {
  const resources = {
    cpu: spec.allocatable?.cpu ?? "8",
    memory: spec.allocatable?.memory ?? "32Gi",
    pods: spec.allocatable?.pods ?? "110",
    "ephemeral-storage": "100Gi",
  };
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
  });
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      labels: {
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        ...spec.labels,
      },
    },
    spec: spec.taints?.length ? { taints: spec.taints } : {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: "127.0.0.1" },
        { type: "Hostname", address: spec.name },
      ],
      nodeInfo: {
        kubeletVersion: "v1.32.0-sim",
        kubeProxyVersion: "v1.32.0-sim",
        containerRuntimeVersion: "sim://1.0.0",
        operatingSystem: "linux",
        architecture: "amd64",
        osImage: "paperclip k8s-sim",
        kernelVersion: "",
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    },
  };
}

function seed(store: ObjectStore, plural: string, body: Record<string, unknown>): void {
  const resource = resourceByPlural(plural);
  if (!resource) throw new Error(`the resource table has no ${plural}`);
  createObject(store, { resource, namespace: undefined, name: undefined, subresource: undefined }, body);
}

/** The admin kubeconfig's bearer token: the API server treats it as cluster-admin. */
const ADMIN_TOKEN = "sim-token";

/** The admin kubeconfig for the sim at `url`; with the CA (PEM) for an https URL, verified against it. */
export function kubeconfigFor(url: string, caCertPem?: string): KubeconfigObject {
  const cluster = caCertPem
    ? { server: url, "certificate-authority-data": Buffer.from(caCertPem).toString("base64") }
    : // client-node 2.x refuses a plain-http server unless TLS verification is declared skipped.
      { server: url, "insecure-skip-tls-verify": true as const };
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: KUBECONFIG_NAME, cluster }],
    users: [{ name: KUBECONFIG_NAME, user: { token: ADMIN_TOKEN } }],
    contexts: [{ name: KUBECONFIG_NAME, context: { cluster: KUBECONFIG_NAME, user: KUBECONFIG_NAME, namespace: "default" } }],
    "current-context": KUBECONFIG_NAME,
    preferences: {},
  };
}

/** Starts a simulated cluster: API server, controllers, scheduler, kubelet, nodes, and a kubeconfig for it. */
export async function startSimCluster(options: SimClusterOptions = {}): Promise<SimCluster> {
  const ownsRootDir = options.rootDir === undefined;
  const rootDir = options.rootDir ?? mkdtempSync(path.join(tmpdir(), "k8s-sim-"));
  mkdirSync(rootDir, { recursive: true });
  // Pods run as non-root users and must reach their volumes below the root dir, as on a real node.
  chmodSync(rootDir, 0o755);
  const store = new ObjectStore();
  const requests = new RequestAccounting();
  const tls = createClusterTls();
  const tokens = new ServiceAccountTokens(store);
  for (const role of bootstrapClusterRoles()) seed(store, "clusterroles", role);
  for (const binding of bootstrapClusterRoleBindings()) seed(store, "clusterrolebindings", binding);
  const nodes = options.nodes ?? [DEFAULT_NODE];
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    seed(store, "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  }
  for (const node of nodes) seed(store, "nodes", nodeObject(node));
  storeServiceCidr(store, randomServiceCidr());

  // The pod actions reach the kubelet constructed below (only called once the cluster runs).
  const actions: SimFaultActions = {
    oomKill: (namespace, pod, container) => kubelet.oomKill(namespace, pod, container),
    evictPod: (namespace, pod) => kubelet.evict(namespace, pod),
    removeNode: (name) => {
      if (!deleteObject(store, "nodes", undefined, name)) throw new Error(`node "${name}" does not exist`);
    },
  };
  const faults: FaultRules & SimFaultActions = Object.assign(new FaultRules(), actions);
  let server: ApiServer;
  try {
    server = await startApiServer({
      store, faults, requests, rootDir, port: options.port, httpsPort: options.httpsPort, bookmarkIntervalMs: options.bookmarkIntervalMs, actions,
      tls, adminToken: ADMIN_TOKEN, tokens,
    });
  } catch (error) {
    if (ownsRootDir) rmSync(rootDir, { recursive: true, force: true });
    throw error;
  }
  const kubelet = new Kubelet({
    store, faults, rootDir, images: options.images, acceptAnyImage: options.acceptAnyImage,
    tokens, kubernetesService: { host: "127.0.0.1", port: server.httpsPort },
  });

  // ---- Controllers: constructed here, started in this order, stopped in reverse. ----
  const controllers: SimController[] = [
    new GarbageCollector(store),
    new NamespaceController(store),
    new NamespaceDefaultsController(store, tls.caCertPem),
    new JobController(store),
    new DeploymentController(store),
    new ReplicaSetController(store),
    new TtlAfterFinishedController(store),
    new Scheduler(store),
    new AttachDetachController(store),
    new PodGarbageCollector(store),
    new EndpointSliceController(store),
    new ServiceProxy(store),
    kubelet,
  ];
  // ---- end of controllers ----

  try {
    for (const controller of controllers) controller.start();
  } catch (error) {
    for (const controller of [...controllers].reverse()) await controller.stop();
    await server.close();
    if (ownsRootDir) rmSync(rootDir, { recursive: true, force: true });
    throw error;
  }
  const url = options.tls ? server.httpsUrl : server.url;
  const kubeconfig = options.tls ? kubeconfigFor(url, tls.caCertPem) : kubeconfigFor(url);
  const kubeconfigPath = options.kubeconfigPath ?? path.join(rootDir, "kubeconfig");
  writeFileSync(kubeconfigPath, `${JSON.stringify(kubeconfig, null, 2)}\n`, { mode: 0o600 });

  let stopped: Promise<void> | undefined;
  return {
    url,
    httpsUrl: server.httpsUrl,
    caCertPem: tls.caCertPem,
    httpsKubeconfig: kubeconfigFor(server.httpsUrl, tls.caCertPem),
    serviceAccountToken: (namespace, name, lifetimeSeconds = 3600) => {
      const account = store.get("serviceaccounts", namespace, name);
      if (!account?.metadata.uid) throw new Error(`serviceaccount "${name}" not found in namespace "${namespace}"`);
      return tokens.mint({ namespace, serviceAccount: { name, uid: account.metadata.uid } }, lifetimeSeconds);
    },
    kubeconfigPath,
    kubeconfig,
    store,
    faults,
    requests,
    rootDir,
    registerImage: (reference, hostDirs) => kubelet.registerImage(reference, typeof hostDirs === "string" ? [hostDirs] : hostDirs),
    pvcHostPath: (namespace, claimName) => {
      const problems = [...dns1123LabelErrors(namespace), ...dns1123SubdomainErrors(claimName)];
      if (problems.length > 0) throw new Error(`invalid namespace "${namespace}" or claim name "${claimName}": ${problems.join("; ")}`);
      const dir = pvcHostPath(rootDir, namespace, claimName);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      return dir;
    },
    stop: () => {
      stopped ??= (async () => {
        await server.close();
        for (const controller of [...controllers].reverse()) await controller.stop();
        if (ownsRootDir) rmSync(rootDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
