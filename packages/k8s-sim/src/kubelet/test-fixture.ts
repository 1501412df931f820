import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FaultRules } from "../faults.ts";
import { parseCriLine, podLogPath } from "../pod-log-files.ts";
import type { K8sObject } from "../store.ts";
import { ObjectStore } from "../store.ts";
import type { KubeletOptions } from "./kubelet.ts";
import { Kubelet } from "./kubelet.ts";
import { isRecord } from "./pod-spec.ts";

export const NODE_NAME = "sim-node-1";

/** A store + kubelet on a fresh root directory, as the kubelet tests drive it (no API server). */
export class KubeletFixture {
  readonly store = new ObjectStore();
  readonly faults = new FaultRules();
  readonly rootDir = mkdtempSync(path.join(tmpdir(), "kubelet-test-"));
  readonly kubelet: Kubelet;

  constructor(options: Partial<KubeletOptions> = {}) {
    this.kubelet = new Kubelet({
      store: this.store,
      faults: this.faults,
      rootDir: this.rootDir,
      acceptAnyImage: true,
      timing: { retryMs: 50, backoffMs: 100, maxBackoffMs: 200 },
      ...options,
    });
    // Mount paths under the root dir must be reachable for non-root container users.
    chmodSync(this.rootDir, 0o755);
    this.kubelet.start();
  }

  async close(): Promise<void> {
    await this.kubelet.stop();
    rmSync(this.rootDir, { recursive: true, force: true });
  }

  /** Creates a pod already bound to the node, as the scheduler would leave it. */
  createPod(name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): K8sObject {
    return this.store.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", ...metadata },
      spec: { restartPolicy: "Never", nodeName: NODE_NAME, ...spec },
    });
  }

  pod(name: string): K8sObject | undefined {
    return this.store.get("pods", "default", name);
  }

  async waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = probe();
      if (result !== undefined && result !== false) return result;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  async waitForPhase(name: string, phases: readonly string[]): Promise<K8sObject> {
    return this.waitFor(`pod ${name} phase in ${phases.join("/")}`, () => {
      const pod = this.pod(name);
      return pod && phases.includes(String(status(pod).phase)) ? pod : undefined;
    });
  }

  /** The pod's terminal state with every container's terminated state published. */
  async waitForCompletion(name: string): Promise<K8sObject> {
    return this.waitFor(`pod ${name} to finish`, () => {
      const pod = this.pod(name);
      if (!pod || !["Succeeded", "Failed"].includes(String(status(pod).phase))) return undefined;
      return containerStatuses(pod).every((c) => isRecord(c.state) && c.state.terminated !== undefined) ? pod : undefined;
    });
  }

  /** The container's log as `kubectl logs` would print it (P records joined, F records end lines). */
  logText(pod: K8sObject, container: string, stream?: "stdout" | "stderr"): string {
    const file = podLogPath(this.rootDir, "default", pod.metadata.name ?? "", pod.metadata.uid ?? "", container);
    let text = "";
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const record = line ? parseCriLine(line) : undefined;
      if (!record || (stream && record.stream !== stream)) continue;
      text += record.content + (record.full ? "\n" : "");
    }
    return text;
  }

  reasons(): string[] {
    return this.store.list("events").items.map((event) => String(event.reason));
  }
}

export function status(pod: K8sObject): Record<string, unknown> {
  return isRecord(pod.status) ? pod.status : {};
}

export function containerStatuses(pod: K8sObject, field = "containerStatuses"): Record<string, unknown>[] {
  const list = status(pod)[field];
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

/** The one container's `state.<kind>` record, or undefined. */
export function stateOf(pod: K8sObject, kind: "waiting" | "running" | "terminated", index = 0, field = "containerStatuses"): Record<string, unknown> | undefined {
  const state = containerStatuses(pod, field)[index]?.state;
  const entry = isRecord(state) ? state[kind] : undefined;
  return isRecord(entry) ? entry : undefined;
}

/** Host processes whose environment contains `marker` (to prove nothing outlives the kubelet). */
export function processesWithMarker(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "utf8").includes(marker)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
