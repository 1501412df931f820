import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import { recordEvent } from "../events.ts";
import type { FaultRules } from "../faults.ts";
import type { K8sObject, ObjectStore, StoreEvent } from "../store.ts";
import { CONTAINER_RUNTIME_DIR } from "./container-process.ts";
import { ImageRegistry } from "./images.ts";
import { MemoryCgroups } from "./memory-cgroup.ts";
import type { KubeletTiming, KubernetesService, WorkerContext } from "./pod-worker.ts";
import { PodWorker } from "./pod-worker.ts";
import { PodSpecError, isRecord, readPod } from "./pod-spec.ts";

export interface KubeletOptions {
  store: ObjectStore;
  faults: FaultRules;
  /** The sim's working directory: pod logs, per-pod volumes and PVC directories live under it. */
  rootDir: string;
  /** Initial image registry: reference → host directories of executables. */
  images?: Record<string, string | readonly string[]>;
  /** Run unregistered images with the host PATH only, instead of failing the pull. */
  acceptAnyImage?: boolean;
  /** Serve only pods bound to these nodes. Default: every bound pod. */
  nodeNames?: readonly string[];
  timing?: Partial<KubeletTiming>;
  /** Mints the tokens of projected service-account volumes. Without it, such volumes fail to mount. */
  tokens?: ServiceAccountTokens;
  /** The API server's HTTPS endpoint as pods reach it; given to every container as `KUBERNETES_SERVICE_HOST` / `_PORT`. */
  kubernetesService?: KubernetesService;
}

const DEFAULT_TIMING: KubeletTiming = { retryMs: 200, backoffMs: 500, maxBackoffMs: 5000 };
/** How long `stop()` lets processes handle SIGTERM before killing them. */
const STOP_GRACE_MS = 500;
const DEFAULT_HOST_IP = "10.0.0.10";

function isTerminalPhase(pod: K8sObject): boolean {
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  return phase === "Succeeded" || phase === "Failed";
}

function nodeNameOf(pod: K8sObject): string | undefined {
  const nodeName = isRecord(pod.spec) ? pod.spec.nodeName : undefined;
  return typeof nodeName === "string" && nodeName !== "" ? nodeName : undefined;
}

/**
 * The sim's kubelet: runs the containers of pods bound to its nodes as local processes, each in
 * a private mount namespace, and reports their status, events and logs as a real kubelet does.
 * Talks to the object store directly.
 */
export class Kubelet {
  private readonly store: ObjectStore;
  private readonly faults: FaultRules;
  private readonly rootDir: string;
  private readonly registry = new ImageRegistry();
  private readonly acceptAnyImage: boolean;
  private readonly tokens: ServiceAccountTokens | undefined;
  private readonly kubernetesService: KubernetesService | undefined;
  private readonly nodeNames: ReadonlySet<string> | undefined;
  private readonly removedNodes = new Set<string>();
  private readonly timing: KubeletTiming;
  private readonly pulledImages = new Set<string>();
  private readonly workers = new Map<string, PodWorker>();
  /** File removals of deleted pods still under way: `stop()` waits for them. */
  private readonly cleanUps = new Set<Promise<void>>();
  private cgroups: MemoryCgroups | undefined;
  private unsubscribers: (() => void)[] = [];
  private nextPodIp = 1;
  private running = false;

  constructor(options: KubeletOptions) {
    this.store = options.store;
    this.faults = options.faults;
    this.rootDir = options.rootDir;
    this.acceptAnyImage = options.acceptAnyImage ?? false;
    this.tokens = options.tokens;
    this.kubernetesService = options.kubernetesService;
    this.nodeNames = options.nodeNames ? new Set(options.nodeNames) : undefined;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    for (const [reference, dirs] of Object.entries(options.images ?? {})) {
      this.registerImage(reference, typeof dirs === "string" ? [dirs] : dirs);
    }
  }

  /** Whether `resources.limits.memory` is enforced by a memory cgroup (else OOM is only the injected fault). */
  get enforcesMemoryLimits(): boolean {
    return this.cgroups !== undefined;
  }

  /** Makes `reference` runnable: its directories are mounted read-only in the container (see `imageDirInContainer`) and go first on its PATH. */
  registerImage(reference: string, dirs: readonly string[]): void {
    this.registry.register(reference, dirs);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Each container mounts its private runtime tmpfs here; the empty directory stays (see CONTAINER_RUNTIME_DIR).
    mkdirSync(CONTAINER_RUNTIME_DIR, { recursive: true, mode: 0o755 });
    this.cgroups = MemoryCgroups.open(`paperclip-k8s-sim-${process.pid}-${Date.now().toString(36)}`);
    // Store listeners run inside the writer's call; handle events after it returns.
    this.unsubscribers.push(this.store.subscribe("pods", (event) => queueMicrotask(() => this.onPodEvent(event))));
    this.unsubscribers.push(this.store.subscribe("nodes", (event) => queueMicrotask(() => this.onNodeEvent(event))));
    // Service names resolve through each pod's /etc/hosts (the sim has no cluster DNS).
    this.unsubscribers.push(
      this.store.subscribe("services", () =>
        queueMicrotask(() => {
          for (const worker of this.workers.values()) worker.refreshHosts();
        }),
      ),
    );
    for (const pod of this.store.list("pods").items) this.sync(pod);
  }

  /** Kills every process (SIGTERM, then SIGKILL after a short grace), waits, removes what it created. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    const workers = [...this.workers.values()];
    for (const worker of workers) worker.vanish(STOP_GRACE_MS);
    await Promise.all(workers.map((worker) => worker.done));
    await Promise.all(this.cleanUps);
    this.workers.clear();
    await this.cgroups?.close();
    this.cgroups = undefined;
    rmSync(path.join(this.rootDir, "pods"), { recursive: true, force: true });
  }

  /** The OOM-kill fault: SIGKILL the container (the first running one by default); it ends OOMKilled, exit 137. */
  oomKill(namespace: string, podName: string, container?: string): void {
    this.workerFor(namespace, podName).oomKill(container);
  }

  /** The eviction fault: kill the pod's containers; phase Failed, reason Evicted, DisruptionTarget condition. */
  evict(namespace: string, podName: string): void {
    this.workerFor(namespace, podName).evict(
      "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. ",
    );
  }

  private workerFor(namespace: string, podName: string): PodWorker {
    const pod = this.store.get("pods", namespace, podName);
    const worker = pod?.metadata.uid ? this.workers.get(pod.metadata.uid) : undefined;
    if (!worker) throw new Error(`pod ${namespace}/${podName} is not running on this kubelet`);
    return worker;
  }

  private serves(nodeName: string | undefined): nodeName is string {
    if (nodeName === undefined || this.removedNodes.has(nodeName)) return false;
    return this.nodeNames === undefined || this.nodeNames.has(nodeName);
  }

  private onPodEvent(event: StoreEvent): void {
    if (!this.running) return;
    const uid = event.object.metadata.uid;
    if (event.type === "DELETED") {
      const worker = uid ? this.workers.get(uid) : undefined;
      if (!worker) return;
      this.workers.delete(worker.pod.uid);
      worker.vanish();
      const cleanUp = worker.done.then(() => worker.cleanUp());
      this.cleanUps.add(cleanUp);
      void cleanUp.finally(() => this.cleanUps.delete(cleanUp));
      return;
    }
    this.sync(event.object);
  }

  private sync(pod: K8sObject): void {
    const uid = pod.metadata.uid;
    if (!uid || !this.serves(nodeNameOf(pod))) return;
    const deleting = pod.metadata.deletionTimestamp !== undefined;
    let worker = this.workers.get(uid);
    if (worker) {
      worker.observe(pod);
    } else if (isTerminalPhase(pod)) {
      // Finished before this kubelet saw it: nothing to run; a deletion is final at once.
      if (deleting) this.store.remove("pods", pod.metadata.namespace, pod.metadata.name ?? "");
      return;
    } else {
      worker = this.startWorker(pod);
      if (!worker) return;
    }
    if (deleting) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? worker.pod.terminationGracePeriodSeconds;
      worker.delete(grace);
    }
  }

  private startWorker(pod: K8sObject): PodWorker | undefined {
    let view;
    try {
      view = readPod(pod);
    } catch (error) {
      if (!(error instanceof PodSpecError)) throw error;
      recordEvent(this.store, pod, "Warning", "FailedCreatePodSandBox", `invalid pod spec: ${error.message}`, "kubelet");
      return undefined;
    }
    const context: WorkerContext = {
      store: this.store,
      faults: this.faults,
      rootDir: this.rootDir,
      images: this.registry,
      acceptAnyImage: this.acceptAnyImage,
      pulledImages: this.pulledImages,
      cgroups: this.cgroups,
      timing: this.timing,
      hostIP: this.hostIpOf(view.nodeName),
      podIP: this.allocatePodIp(),
      tokens: this.tokens,
      kubernetesService: this.kubernetesService,
    };
    const worker = new PodWorker(context, pod, view);
    this.workers.set(view.uid, worker);
    return worker;
  }

  private onNodeEvent(event: StoreEvent): void {
    const name = event.object.metadata.name;
    if (!this.running || !name) return;
    if (event.type !== "DELETED") {
      this.removedNodes.delete(name);
      for (const worker of this.workers.values()) if (worker.pod.nodeName === name) worker.nudge();
      return;
    }
    // A node that is gone takes its processes with it; nobody is left to report their status.
    this.removedNodes.add(name);
    for (const worker of this.workers.values()) {
      if (worker.pod.nodeName === name) worker.vanish();
    }
  }

  private hostIpOf(nodeName: string): string {
    const node = this.store.get("nodes", undefined, nodeName);
    const addresses = node && isRecord(node.status) && Array.isArray(node.status.addresses) ? node.status.addresses : [];
    for (const address of addresses) {
      if (isRecord(address) && address.type === "InternalIP" && typeof address.address === "string") return address.address;
    }
    return DEFAULT_HOST_IP;
  }

  private allocatePodIp(): string {
    const n = this.nextPodIp++;
    return `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  }
}
