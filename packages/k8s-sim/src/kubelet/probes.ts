import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerPortView, ProbeAction, ProbeView } from "./pod-spec.ts";

/** What a probe needs to know about the running container it checks. */
export interface ProbeTarget {
  /** The container's main process: exec probes join its mount namespace. */
  pid: number;
  env: ReadonlyMap<string, string>;
  uid: number;
  gid: number;
  workingDir?: string;
  ports: readonly ContainerPortView[];
}

type ProbeResult = { ok: true } | { ok: false; message: string };

/** Pods share the host's network in the sim, so a pod's ports are on the loopback address. */
const POD_HOST = "127.0.0.1";
const OUTPUT_LIMIT = 10 * 1024;

function resolvePort(port: number | string, target: ProbeTarget): number {
  if (typeof port === "number") return port;
  const named = target.ports.find((candidate) => candidate.name === port);
  if (!named) throw new Error(`couldn't find port: ${port} in container`);
  return named.containerPort;
}

/** An exec probe: the command runs inside the container's mount namespace, as its user, with its environment. */
function execProbe(command: readonly string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const env = [...target.env].map(([name, value]) => `${name}=${value}`);
    const child = spawn(
      "/usr/bin/nsenter",
      [`--mount=/proc/${target.pid}/ns/mnt`, `--wd=${target.workingDir ?? "/"}`, "--", "/usr/bin/setpriv", `--reuid=${target.uid}`, `--regid=${target.gid}`,
        "--clear-groups", "--", "/usr/bin/env", "-i", ...env, ...command],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ ok: false, message: `command ${JSON.stringify(command.join(" "))} timed out` });
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ ok: false, message: error.message });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true } : { ok: false, message: output.slice(0, OUTPUT_LIMIT) });
    });
  });
}

function httpProbe(action: Extract<ProbeAction, { kind: "httpGet" }>, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = action.host ?? POD_HOST;
    const port = resolvePort(action.port, target);
    const url = `${action.scheme.toLowerCase()}://${host}:${port}${action.path}`;
    const client = action.scheme === "HTTPS" ? https : http;
    const headers: Record<string, string> = { "User-Agent": "kube-probe/1.32", Accept: "*/*" };
    for (const header of action.headers) headers[header.name] = header.value;
    // The kubelet does not verify a probed pod's certificate.
    const request = client.get(url, { headers, timeout: timeoutMs, rejectUnauthorized: false }, (response) => {
      response.resume();
      const code = response.statusCode ?? 0;
      resolve(code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    request.once("timeout", () => {
      request.destroy();
      resolve({ ok: false, message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    request.once("error", (error: NodeJS.ErrnoException) => {
      const reason = error.code === "ECONNREFUSED" ? "connect: connection refused" : error.message;
      resolve({ ok: false, message: `Get "${url}": dial tcp ${host}:${port}: ${reason}` });
    });
  });
}

function tcpProbe(action: Extract<ProbeAction, { kind: "tcpSocket" }>, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = action.host ?? POD_HOST;
    const port = resolvePort(action.port, target);
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once("connect", () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      resolve({ ok: false, message: `dial tcp ${host}:${port}: ${error.code === "ECONNREFUSED" ? "connect: connection refused" : error.message}` });
    });
  });
}

/** Runs one probe once. */
async function probeOnce(action: ProbeAction, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  try {
    switch (action.kind) {
      case "exec":
        return await execProbe(action.command, target, timeoutMs);
      case "httpGet":
        return await httpProbe(action, target, timeoutMs);
      case "tcpSocket":
        return await tcpProbe(action, target, timeoutMs);
    }
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

type ProbeKind = "Readiness" | "Liveness" | "Startup";

export interface ProbeHandlers {
  /** The startup probe succeeded (at once when there is none): readiness and liveness probes begin. */
  started(): void;
  /** The readiness verdict changed (successThreshold / failureThreshold consecutive results). */
  readiness(ready: boolean): void;
  /** The liveness or startup probe failed failureThreshold times in a row: the container is to be restarted. */
  failed(kind: "Liveness" | "Startup"): void;
  /** Every failed probe is a Warning `Unhealthy` event. */
  unhealthy(message: string): void;
}

/**
 * The kubelet's prober for one running container: the startup probe first (if any), then the
 * readiness and liveness probes, each every `periodSeconds` after `initialDelaySeconds`, their
 * verdicts switching after `successThreshold` / `failureThreshold` consecutive results.
 */
export class ContainerProbes {
  private readonly abort = new AbortController();

  constructor(
    probes: { readiness?: ProbeView; liveness?: ProbeView; startup?: ProbeView },
    target: ProbeTarget,
    handlers: ProbeHandlers,
  ) {
    this.run(probes, target, handlers).catch((error: unknown) => {
      console.error("[k8s-sim kubelet] a container's prober stopped:", error);
    });
  }

  stop(): void {
    this.abort.abort();
  }

  private async run(probes: { readiness?: ProbeView; liveness?: ProbeView; startup?: ProbeView }, target: ProbeTarget, handlers: ProbeHandlers): Promise<void> {
    if (probes.startup) {
      const startedOk = await this.loop("Startup", probes.startup, target, handlers, () => "stop");
      if (!startedOk) return;
    }
    if (this.abort.signal.aborted) return;
    handlers.started();
    const loops: Promise<boolean>[] = [];
    if (probes.readiness) {
      let ready = false;
      loops.push(this.loop("Readiness", probes.readiness, target, handlers, (verdict) => {
        if (verdict !== ready) handlers.readiness((ready = verdict));
        return "continue";
      }));
    }
    if (probes.liveness) loops.push(this.loop("Liveness", probes.liveness, target, handlers, (verdict) => (verdict ? "continue" : "stop")));
    await Promise.all(loops);
  }

  /**
   * Probes until `onVerdict` says stop or the container ends; returns the last verdict. A verdict
   * is reached after the threshold of consecutive equal results (startup and liveness only report
   * a failure verdict; their success is immediate).
   */
  private async loop(
    kind: ProbeKind,
    probe: ProbeView,
    target: ProbeTarget,
    handlers: ProbeHandlers,
    onVerdict: (ok: boolean) => "continue" | "stop",
  ): Promise<boolean> {
    const signal = this.abort.signal;
    let successes = 0;
    let failures = 0;
    if (!(await this.wait(probe.initialDelaySeconds * 1000))) return false;
    while (!signal.aborted) {
      const result = await probeOnce(probe.action, target, probe.timeoutSeconds * 1000);
      if (signal.aborted) return false;
      if (result.ok) {
        failures = 0;
        successes++;
        if (kind === "Startup") return true;
        if (successes >= probe.successThreshold && onVerdict(true) === "stop") return true;
      } else {
        successes = 0;
        failures++;
        handlers.unhealthy(`${kind} probe failed: ${result.message}`);
        if (failures >= probe.failureThreshold) {
          if (kind !== "Readiness") {
            handlers.failed(kind);
            return false;
          }
          onVerdict(false);
        }
      }
      if (!(await this.wait(probe.periodSeconds * 1000))) return false;
    }
    return false;
  }

  private async wait(ms: number): Promise<boolean> {
    if (ms <= 0) return !this.abort.signal.aborted;
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
      return true;
    } catch {
      return false;
    }
  }
}
