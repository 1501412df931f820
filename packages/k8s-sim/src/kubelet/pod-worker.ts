import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { chmod, mkdir, open, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceAccountTokens } from "../auth/service-account-tokens.ts";
import type { EventType } from "../events.ts";
import { recordEvent } from "../events.ts";
import type { FaultRules } from "../faults.ts";
import { podLogDir, podLogPath } from "../pod-log-files.ts";
import type { K8sObject, ObjectStore } from "../store.ts";
import { attachedVolumeName, singleNodeVolumesOf, volumesAttachedTo } from "../volume-attachment.ts";
import { ContainerConfigError, expandReferences, resolveContainerEnv } from "./container-env.ts";
import type { ExitStatus } from "./container-process.ts";
import { ContainerProcess, HOST_PATH, imageDirInContainer } from "./container-process.ts";
import type { ImageReference, ImageRegistry } from "./images.ts";
import { InvalidImageReferenceError, defaultPullPolicy, imageIdOf, parseImageReference } from "./images.ts";
import { renderHostsFile } from "./etc-hosts.ts";
import type { ProbeTarget } from "./probes.ts";
import { ContainerProbes } from "./probes.ts";
import type { ContainerCgroup, MemoryCgroups } from "./memory-cgroup.ts";
import type { ContainerView, PodView } from "./pod-spec.ts";
import { serviceLinkEnv, servicesWithClusterIp } from "./service-env.ts";
import type { ContainerStatus, PodStatusSnapshot, TerminatedState } from "./pod-status.ts";
import { applyPodStatus, isTerminated, podPhase, statusTime } from "./pod-status.ts";
import type { PreparedVolume } from "./volumes.ts";
import { VolumeSetupError, containerBindMounts, podHostDir, preparePodVolumes } from "./volumes.ts";

/** How long the kubelet waits before retrying; short by default so tests and demos move quickly. */
export interface KubeletTiming {
  /** Re-check interval for held pods, missing Secrets/ConfigMaps and failed mounts. */
  retryMs: number;
  /** First image pull back-off; doubles up to `maxBackoffMs`. Also the first crash-loop back-off. */
  backoffMs: number;
  maxBackoffMs: number;
}

/** Where pods reach the API server (the `kubernetes` service's address). */
export interface KubernetesService {
  host: string;
  port: number;
}

/** What a pod worker needs from its kubelet. */
export interface WorkerContext {
  store: ObjectStore;
  faults: FaultRules;
  rootDir: string;
  images: ImageRegistry;
  acceptAnyImage: boolean;
  pulledImages: Set<string>;
  cgroups: MemoryCgroups | undefined;
  timing: KubeletTiming;
  hostIP: string;
  podIP: string;
  /** Mints the projected service-account tokens. */
  tokens: ServiceAccountTokens | undefined;
  /** The API server as pods reach it (`KUBERNETES_SERVICE_HOST` / `_PORT`). */
  kubernetesService: KubernetesService | undefined;
}

type Ending =
  | { kind: "delete"; graceSeconds: number }
  | { kind: "evict"; message: string }
  /** The pod or its node is gone, or the sim stops: kill, publish nothing. */
  | { kind: "vanish" };

interface ContainerRun {
  spec: ContainerView;
  status: ContainerStatus;
  process?: ContainerProcess;
  oomRequested: boolean;
}

const TERMINATION_MESSAGE_LIMIT = 4096;
const COMPONENT = "kubelet";

function containerId(): string {
  return `containerd://${randomBytes(32).toString("hex")}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readHead(file: string, limit: number): Promise<string> {
  try {
    const handle = await open(file, "r");
    try {
      const buffer = Buffer.alloc(limit);
      const { bytesRead } = await handle.read(buffer, 0, limit, 0);
      return buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return "";
  }
}

/** Runs one pod on the node: volumes, images, init containers, containers, status, and its end. */
export class PodWorker {
  readonly pod: PodView;
  readonly done: Promise<void>;
  private readonly context: WorkerContext;
  private object: K8sObject;
  private readonly initRuns: ContainerRun[];
  private readonly runs: ContainerRun[];
  private readonly startTime = statusTime();
  private readonly abort = new AbortController();
  private sandboxReady = false;
  private completed = false;
  private volumes: ReadonlyMap<string, PreparedVolume> = new Map();
  private ending: Ending | undefined;
  private disruption: PodStatusSnapshot["disruption"];
  private podReason: { reason: string; message: string } | undefined;
  private nudgePause: (() => void) | undefined;
  /** The removal of the pod's files, once started (see `cleanUp`). */
  private cleaning: Promise<void> | undefined;

  constructor(context: WorkerContext, object: K8sObject, pod: PodView) {
    this.context = context;
    this.object = object;
    this.pod = pod;
    const waiting = (spec: ContainerView, reason: string): ContainerRun => ({
      spec,
      oomRequested: false,
      status: {
        name: spec.name,
        image: spec.image,
        imageID: "",
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason } },
        lastState: {},
      },
    });
    const hasInit = pod.initContainers.length > 0;
    this.initRuns = pod.initContainers.map((spec) => waiting(spec, "PodInitializing"));
    this.runs = pod.containers.map((spec) => waiting(spec, hasInit ? "PodInitializing" : "ContainerCreating"));
    this.done = this.run();
  }

  get isFinished(): boolean {
    return this.phase() === "Succeeded" || this.phase() === "Failed";
  }

  /** Graceful deletion: SIGTERM now, SIGKILL after the grace period, then remove the pod. */
  delete(graceSeconds: number): void {
    if (this.ending) return;
    this.ending = { kind: "delete", graceSeconds };
    if (this.completed) {
      this.removePod();
      return;
    }
    this.stopContainers(graceSeconds * 1000, true);
  }

  /** Eviction under node pressure: kill now, phase Failed with reason Evicted. */
  evict(message: string): void {
    if (this.ending) return;
    this.ending = { kind: "evict", message };
    this.disruption = { reason: "TerminationByKubelet", message };
    this.podReason = { reason: "Evicted", message };
    this.event("Warning", "Evicted", message);
    this.stopContainers(0, true);
  }

  /** The pod or its node is gone (or the sim stops): kill everything within `graceMs`, write nothing. */
  vanish(graceMs = 0): void {
    if (this.ending?.kind === "vanish") return;
    this.ending = { kind: "vanish" };
    this.stopContainers(graceMs, false);
  }

  /** OOM-kills a running container (the first running one when no name is given). */
  oomKill(containerName?: string): void {
    const run = [...this.initRuns, ...this.runs].find(
      (candidate) => candidate.process && (containerName === undefined || candidate.spec.name === containerName),
    );
    if (!run?.process) {
      throw new Error(`pod ${this.pod.namespace}/${this.pod.name} has no running container${containerName ? ` "${containerName}"` : ""}`);
    }
    run.oomRequested = true;
    run.process.signalGroup("SIGKILL");
  }

  private async run(): Promise<void> {
    try {
      this.publish();
      if (!(await this.prepareSandbox())) return;
      for (const run of this.initRuns) {
        await this.runContainer(run, true);
        if (this.stopped() || !(isTerminated(run.status) && run.status.state.terminated.exitCode === 0)) break;
      }
      const initOk = this.initRuns.every((r) => isTerminated(r.status) && r.status.state.terminated.exitCode === 0);
      if (initOk && !this.stopped()) await Promise.all(this.runs.map((run) => this.runContainer(run, false)));
    } finally {
      await this.finish();
    }
  }

  private stopped(): boolean {
    return this.ending !== undefined;
  }

  /** Waits out a hold, sets up volumes. False when the pod ended before it could start. */
  private async prepareSandbox(): Promise<boolean> {
    const { faults, store, rootDir, timing } = this.context;
    while (!this.stopped()) {
      // A held pod, or one whose single-node volume is not attached to this node yet, stays in ContainerCreating.
      if (faults.isHeldInContainerCreating(this.pod.namespace, this.pod.name) || !this.volumesAttached()) {
        await this.pause(timing.retryMs, true);
        continue;
      }
      try {
        this.volumes = await preparePodVolumes(store, rootDir, this.pod, { object: this.object, tokens: this.context.tokens });
        this.sandboxReady = true;
        this.refreshHosts();
        this.publish();
        return true;
      } catch (error) {
        if (!(error instanceof VolumeSetupError)) throw error;
        this.event("Warning", "FailedMount", error.message);
        await this.pause(timing.retryMs);
      }
    }
    return false;
  }

  private hostsFile(): string {
    return path.join(podHostDir(this.context.rootDir, this.pod.uid), "etc-hosts");
  }

  /** (Re)writes the pod's /etc/hosts in place (containers see the same file through their bind mount). */
  refreshHosts(): void {
    if (!this.sandboxReady || this.completed) return;
    mkdirSync(path.dirname(this.hostsFile()), { recursive: true });
    writeFileSync(this.hostsFile(), renderHostsFile(this.pod.name, this.pod.namespace, servicesWithClusterIp(this.context.store)));
  }

  /** Whether every ReadWriteOnce claim the pod mounts is attached to its node (the attach/detach controller's job). */
  private volumesAttached(): boolean {
    const { store } = this.context;
    const attached = volumesAttachedTo(store.peek("nodes", undefined, this.pod.nodeName));
    return singleNodeVolumesOf(store, this.object).every(({ volumeName }) => attached.has(attachedVolumeName(volumeName)));
  }

  /** Sleeps unless the pod ends first or, when `nudgeable` (waiting for the sandbox), the kubelet nudges it. */
  private async pause(ms: number, nudgeable = false): Promise<void> {
    const nudge = new AbortController();
    if (nudgeable) this.nudgePause = () => nudge.abort();
    try {
      await sleep(ms, undefined, { signal: AbortSignal.any([this.abort.signal, nudge.signal]) });
    } catch {
      // ended or nudged early
    } finally {
      this.nudgePause = undefined;
    }
  }

  /** Something the pod may be waiting for changed (e.g. its node's attached volumes): retry now. */
  nudge(): void {
    this.nudgePause?.();
  }

  /** One container through pull, config, start and exit, restarting as the restart policy says. */
  private async runContainer(run: ContainerRun, isInit: boolean): Promise<void> {
    let crashBackoff = this.context.timing.backoffMs;
    while (!this.stopped()) {
      const image = await this.pullImage(run);
      if (!image) return;
      const status = await this.startAndWait(run, image);
      if (!status) return;
      const failed = status.exitCode !== 0;
      const restart =
        !this.stopped() && (this.pod.restartPolicy === "Always" ? !isInit || failed : this.pod.restartPolicy === "OnFailure" && failed);
      if (!restart) return;
      run.status = {
        ...run.status,
        ready: false,
        started: false,
        lastState: run.status.state,
        state: {
          waiting: {
            reason: "CrashLoopBackOff",
            message: `back-off ${Math.round(crashBackoff / 1000)}s restarting failed container=${run.spec.name} pod=${this.pod.name}_${this.pod.namespace}(${this.pod.uid})`,
          },
        },
      };
      this.event("Warning", "BackOff", "Back-off restarting failed container " + run.spec.name + ` in pod ${this.pod.name}_${this.pod.namespace}(${this.pod.uid})`);
      this.publish();
      await this.pause(crashBackoff);
      crashBackoff = Math.min(crashBackoff * 2, this.context.timing.maxBackoffMs);
      run.status = { ...run.status, restartCount: run.status.restartCount + 1 };
    }
  }

  private setWaiting(run: ContainerRun, reason: string, message?: string): void {
    run.status = { ...run.status, ready: false, started: false, state: { waiting: message === undefined ? { reason } : { reason, message } } };
    this.publish();
  }

  /** Resolves the image as the pull policy says; returns the image's PATH directories, or undefined when the pod ended. */
  private async pullImage(run: ContainerRun): Promise<{ ref: ImageReference; dirs: string[] } | undefined> {
    const { images, acceptAnyImage, pulledImages, timing } = this.context;
    let backoff = timing.backoffMs;
    while (!this.stopped()) {
      let ref: ImageReference;
      try {
        ref = parseImageReference(run.spec.image);
      } catch (error) {
        if (!(error instanceof InvalidImageReferenceError)) throw error;
        this.event("Warning", "InspectFailed", error.message);
        this.event("Warning", "Failed", "Error: InvalidImageName");
        this.setWaiting(run, "InvalidImageName", error.message);
        await this.pause(timing.retryMs);
        continue;
      }
      const dirs = images.lookup(ref) ?? (acceptAnyImage ? [] : undefined);
      const policy = run.spec.imagePullPolicy ?? defaultPullPolicy(ref);
      const present = dirs !== undefined && (policy === "Never" || pulledImages.has(ref.canonical));
      if (present && policy !== "Always") {
        this.event("Normal", "Pulled", `Container image "${run.spec.image}" already present on machine`);
        return { ref, dirs };
      }
      if (policy === "Never") {
        const message = `Container image "${run.spec.image}" is not present with pull policy of Never`;
        this.event("Warning", "ErrImageNeverPull", message);
        this.setWaiting(run, "ErrImageNeverPull", message);
        await this.pause(timing.retryMs);
        continue;
      }
      const began = performance.now();
      this.event("Normal", "Pulling", `Pulling image "${run.spec.image}"`);
      if (dirs !== undefined) {
        pulledImages.add(ref.canonical);
        const ms = Math.max(1, Math.round(performance.now() - began));
        this.event(
          "Normal",
          "Pulled",
          `Successfully pulled image "${run.spec.image}" in ${ms}ms (${ms}ms including waiting). Image size: 0 bytes.`,
        );
        return { ref, dirs };
      }
      const message = `failed to pull and unpack image "${ref.canonical}": failed to resolve reference "${ref.canonical}": ${ref.canonical}: not found`;
      this.event("Warning", "Failed", `Failed to pull image "${run.spec.image}": ${message}`);
      this.event("Warning", "Failed", "Error: ErrImagePull");
      this.setWaiting(run, "ErrImagePull", message);
      await this.pause(backoff);
      if (this.stopped()) return undefined;
      this.event("Normal", "BackOff", `Back-off pulling image "${run.spec.image}"`);
      this.event("Warning", "Failed", "Error: ImagePullBackOff");
      this.setWaiting(run, "ImagePullBackOff", `Back-off pulling image "${run.spec.image}"`);
      await this.pause(backoff);
      backoff = Math.min(backoff * 2, timing.maxBackoffMs);
    }
    return undefined;
  }

  /** Builds the process spec (retrying while config is missing), runs it, records its end. */
  private async startAndWait(run: ContainerRun, image: { ref: ImageReference; dirs: string[] }): Promise<ExitStatus | undefined> {
    const { store, rootDir, timing, cgroups } = this.context;
    let env: Map<string, string> | undefined;
    while (!env) {
      if (this.stopped()) return undefined;
      try {
        const specEnv = resolveContainerEnv(run.spec, {
          store,
          pod: this.object,
          podIP: this.context.podIP,
          hostIP: this.context.hostIP,
          serviceEnv: serviceLinkEnv(store, this.object),
        });
        const imagePath = image.dirs.map((_, index) => imageDirInContainer(index));
        const service = this.context.kubernetesService;
        // As the kubelet does: the API server's service variables first, so the pod's own env can override them.
        const apiServerEnv: [string, string][] = service ? [["KUBERNETES_SERVICE_HOST", service.host], ["KUBERNETES_SERVICE_PORT", String(service.port)]] : [];
        env = new Map([["PATH", [...imagePath, HOST_PATH].join(":")], ["HOSTNAME", this.pod.name], ...apiServerEnv, ...specEnv]);
      } catch (error) {
        if (!(error instanceof ContainerConfigError)) throw error;
        this.event("Warning", "Failed", `Error: ${error.message}`);
        this.setWaiting(run, "CreateContainerConfigError", error.message);
        await this.pause(timing.retryMs);
      }
    }
    const resolvedEnv = env;
    run.status = { ...run.status, image: image.ref.canonical, imageID: imageIdOf(image.ref) };
    const id = containerId();
    const startedAt = statusTime();
    const lookup = (name: string) => resolvedEnv.get(name);
    const argv = [...(run.spec.command ?? []), ...(run.spec.args ?? [])].map((part) => expandReferences(part, lookup));
    if (run.spec.command === undefined) {
      return this.recordStartFailure(run, id, startedAt, "the sim's images have no entrypoint: set the container's command");
    }

    const hostDir = podHostDir(rootDir, this.pod.uid);
    const terminationFile = path.join(hostDir, "termination", `${run.spec.name}-${run.status.restartCount}`);
    await mkdir(path.dirname(terminationFile), { recursive: true });
    await writeFile(terminationFile, "");
    await chmod(terminationFile, 0o666);
    const cgroup: ContainerCgroup | undefined = await cgroups?.create(`${this.pod.uid}-${run.spec.name}-${run.status.restartCount}`, run.spec.memoryLimitBytes);
    // Container-level securityContext wins over the pod's; root when neither says.
    const uid = run.spec.securityContext.runAsUser ?? this.pod.securityContext.runAsUser ?? 0;
    const gid = run.spec.securityContext.runAsGroup ?? this.pod.securityContext.runAsGroup ?? 0;
    let probes: ContainerProbes | undefined;
    try {
      let process: ContainerProcess;
      try {
        process = await ContainerProcess.launch({
          argv,
          env: resolvedEnv,
          workingDir: run.spec.workingDir,
          imageDirs: image.dirs,
          mounts: [...containerBindMounts(run.spec, this.volumes, terminationFile), { source: this.hostsFile(), target: "/etc/hosts", readOnly: false }],
          uid,
          gid,
          cgroupProcsFile: cgroup?.procsFile,
          logFile: podLogPath(rootDir, this.pod.namespace, this.pod.name, this.pod.uid, run.spec.name),
        });
      } catch (error) {
        return this.recordStartFailure(run, id, startedAt, errorMessage(error));
      }
      run.process = process;
      // The pod began to stop while the launcher was starting this container: stop it too.
      if (this.stopped()) process.signalGroup("SIGKILL");
      this.event("Normal", "Created", `Created container: ${run.spec.name}`);
      if (await process.started) {
        const { startupProbe, readinessProbe, livenessProbe } = run.spec;
        // Without probes a running container is started and ready at once; probes decide otherwise.
        run.status = { ...run.status, containerID: id, started: !startupProbe, ready: !startupProbe && !readinessProbe, state: { running: { startedAt } } };
        this.event("Normal", "Started", `Started container ${run.spec.name}`);
        this.publish();
        if (startupProbe || readinessProbe || livenessProbe) {
          probes = this.startProbes(run, process, { pid: process.pid, env: resolvedEnv, uid, gid, workingDir: run.spec.workingDir, ports: run.spec.ports });
        }
      }
      const exit = await process.exited;
      probes?.stop();
      run.process = undefined;
      const oomKilled = run.oomRequested || (cgroup?.oomKilled() ?? false);
      if (oomKilled) {
        this.event("Warning", "OOMKilling", `Memory cgroup out of memory: Killed process ${process.pid} (${path.basename(argv[0] ?? "")})`);
      }
      let message = exit.startError ?? ((await readHead(terminationFile, TERMINATION_MESSAGE_LIMIT)) || undefined);
      if (message === undefined && exit.exitCode !== 0 && run.spec.terminationMessagePolicy === "FallbackToLogsOnError") {
        message = exit.outputTail || undefined;
      }
      if (exit.startError) this.event("Warning", "Failed", `Error: ${exit.startError}`);
      const terminated: TerminatedState = {
        exitCode: exit.exitCode,
        ...(exit.signal === undefined ? {} : { signal: exit.signal }),
        reason: exit.startError ? "StartError" : oomKilled ? "OOMKilled" : exit.exitCode === 0 ? "Completed" : "Error",
        ...(message === undefined ? {} : { message }),
        startedAt: exit.startError ? "1970-01-01T00:00:00Z" : startedAt,
        finishedAt: statusTime(),
        containerID: id,
      };
      await this.recordTermination(run, terminated);
      return exit;
    } finally {
      probes?.stop();
      await cgroup?.remove();
    }
  }

  /** Runs the container's probes; their verdicts set `started` / `ready`, a failed liveness or startup probe restarts it. */
  private startProbes(run: ContainerRun, process: ContainerProcess, target: ProbeTarget): ContainerProbes {
    const current = () => run.process === process && "running" in run.status.state;
    return new ContainerProbes({ readiness: run.spec.readinessProbe, liveness: run.spec.livenessProbe, startup: run.spec.startupProbe }, target, {
      started: () => {
        if (!current() || run.status.started) return;
        run.status = { ...run.status, started: true, ready: !run.spec.readinessProbe };
        this.publish();
      },
      readiness: (ready) => {
        if (!current()) return;
        run.status = { ...run.status, ready };
        this.publish();
      },
      failed: (kind) => {
        if (!current() || this.stopped()) return;
        this.event("Normal", "Killing", `Container ${run.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`);
        process.signal("SIGTERM");
        const timer = setTimeout(() => process.signalGroup("SIGKILL"), this.pod.terminationGracePeriodSeconds * 1000);
        void process.exited.finally(() => clearTimeout(timer));
      },
      unhealthy: (message) => {
        if (current()) this.event("Warning", "Unhealthy", message);
      },
    });
  }

  private async recordStartFailure(run: ContainerRun, id: string, startedAt: string, message: string): Promise<ExitStatus> {
    this.event("Warning", "Failed", `Error: ${message}`);
    await this.recordTermination(run, {
      exitCode: 128,
      reason: "StartError",
      message,
      startedAt,
      finishedAt: statusTime(),
      containerID: id,
    });
    return { exitCode: 128, startError: message };
  }

  /**
   * Publishes a container's end. With the status-lag fault, a pod that this exit makes terminal
   * first shows its terminal phase with the container still `running`, then the terminated state.
   */
  private async recordTermination(run: ContainerRun, terminated: TerminatedState): Promise<void> {
    const before = run.status;
    run.status = { ...run.status, containerID: terminated.containerID, ready: false, started: false, state: { terminated } };
    const lagMs = this.context.faults.statusLagMs;
    if (lagMs > 0 && this.isFinished && "running" in before.state && this.ending?.kind !== "vanish") {
      this.publish(new Map([[run, { ...before, ready: false }]]));
      await sleep(lagMs);
    }
    this.publish();
  }

  private stopContainers(graceMs: number, announce: boolean): void {
    this.abort.abort();
    for (const run of [...this.initRuns, ...this.runs]) {
      const process = run.process;
      if (!process) continue;
      if (graceMs <= 0) {
        process.signalGroup("SIGKILL");
        continue;
      }
      if (announce) this.event("Normal", "Killing", `Stopping container ${run.spec.name}`);
      process.signal("SIGTERM");
      const timer = setTimeout(() => process.signalGroup("SIGKILL"), graceMs);
      void process.exited.finally(() => clearTimeout(timer));
    }
  }

  /** After every container loop has ended: publish the end state, remove a deleted pod, clean up. */
  private async finish(): Promise<void> {
    const ending = this.ending;
    this.completed = true;
    if (ending?.kind === "evict" || ending?.kind === "delete") this.publish();
    if (ending?.kind === "delete") this.removePod();
    if (ending) await this.cleanUp();
  }

  /** Removes the pod from the store; its files go with `cleanUp` (which the kubelet awaits). */
  private removePod(): void {
    const stored = this.context.store.peek("pods", this.pod.namespace, this.pod.name);
    if (stored?.metadata.uid === this.pod.uid) this.context.store.remove("pods", this.pod.namespace, this.pod.name);
    void this.cleanUp();
  }

  /**
   * Removes the pod's host directories and logs (only once the pod itself is gone or going), off the event
   * loop: a recursive removal is many system calls, and the API server must not wait for them.
   */
  cleanUp(): Promise<void> {
    this.cleaning ??= Promise.all([
      rm(podHostDir(this.context.rootDir, this.pod.uid), { recursive: true, force: true }),
      rm(podLogDir(this.context.rootDir, this.pod.namespace, this.pod.name, this.pod.uid), { recursive: true, force: true }),
    ]).then(() => undefined);
    return this.cleaning;
  }

  /** Sees the latest stored pod (for fieldRefs and the scheduler's conditions). */
  observe(object: K8sObject): void {
    this.object = object;
  }

  private phase(): PodStatusSnapshot["phase"] {
    if (this.ending?.kind === "evict") return "Failed";
    const statuses = this.runs.map((r) => r.status);
    const phase = podPhase(this.pod.restartPolicy, this.initRuns.map((r) => r.status), statuses);
    // A pod being deleted whose containers never ran ends Failed, as the kubelet reports it.
    if (this.ending?.kind === "delete" && !this.runs.some((r) => r.process) && (phase === "Pending" || phase === "Running")) {
      return this.runs.every((r) => isTerminated(r.status) && r.status.state.terminated.exitCode === 0) ? "Succeeded" : "Failed";
    }
    return phase;
  }

  private publish(overrides?: ReadonlyMap<ContainerRun, ContainerStatus>): void {
    if (this.ending?.kind === "vanish") return;
    const view = (run: ContainerRun) => overrides?.get(run) ?? run.status;
    const snapshot: PodStatusSnapshot = {
      phase: this.phase(),
      ...this.podReason,
      hostIP: this.context.hostIP,
      podIP: this.context.podIP,
      startTime: this.startTime,
      sandboxReady: this.sandboxReady,
      initContainerStatuses: this.initRuns.map(view),
      containerStatuses: this.runs.map(view),
      disruption: this.disruption,
    };
    const stored = this.context.store.mutate("pods", this.pod.namespace, this.pod.name, (pod) => {
      if (pod.metadata.uid === this.pod.uid) applyPodStatus(pod, snapshot);
    });
    if (stored && stored.metadata.uid === this.pod.uid) this.object = stored;
  }

  private event(type: EventType, reason: string, message: string): void {
    if (this.ending?.kind === "vanish") return;
    recordEvent(this.context.store, this.object, type, reason, message, COMPONENT);
  }
}
