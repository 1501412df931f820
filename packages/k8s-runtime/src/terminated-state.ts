/**
 * How the agent's container ended, in facts (`exitCode`, `signal`, `reason`) and in words (`description`)
 * for messages such as a truncated run's error (DESIGN §3.10, §3.12). Pure.
 */
import type { V1ContainerStateTerminated, V1Pod } from "@kubernetes/client-node";
import type { PodOutcome } from "./agent.ts";
import { oneLine, reasonAndMessage } from "./startup-diagnosis.ts";

/** Linux signal numbers (x86-64 and arm64): pods run Linux whatever the server runs on. */
const LINUX_SIGNALS = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
  "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
  "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
  "SIGSYS",
] as const;

/** `SIGKILL` for 9; real-time signals as `kill -l` names them (`SIGRTMIN`, `SIGRTMIN+1`, …); null outside 1-64. */
export function signalName(signal: number): string | null {
  if (!Number.isInteger(signal) || signal < 1 || signal > 64) return null;
  const named = LINUX_SIGNALS[signal - 1];
  if (named !== undefined) return named;
  // glibc keeps 32 and 33 for itself and starts SIGRTMIN at 34.
  if (signal < 34) return `SIG${signal}`;
  return signal === 34 ? "SIGRTMIN" : `SIGRTMIN+${signal - 34}`;
}

/** Shells report death by signal N as exit code 128+N. */
function signalFromExitCode(exitCode: number): string | null {
  return exitCode > 128 ? signalName(exitCode - 128) : null;
}

export interface TerminationFacts {
  /** The pod as last seen, if any. */
  pod?: V1Pod;
  containerName: string;
  /** The run directory's exit-code file, when present: the agent's own exit code, preferred. */
  exitCodeFromFile: number | null;
  /** The pod was deleted before its final status was read. */
  podGone: boolean;
  /** False when the pod is terminal but kubelet had still not published the container's state when we gave up waiting. */
  statusPublished: boolean;
}

function terminatedStateOf(pod: V1Pod | undefined, containerName: string): V1ContainerStateTerminated | undefined {
  const status = pod?.status?.containerStatuses?.find((candidate) => candidate.name === containerName);
  return status?.state?.terminated;
}

function signalNote(signal: string, reason: string | null): string {
  if (signal === "SIGKILL" && reason !== "OOMKilled") return "SIGKILL, commonly OOMKilled";
  if (signal === "SIGTERM") return "SIGTERM: the pod was asked to stop (deleted, evicted or past its deadline)";
  return signal;
}

/** `exitCode`, `signal`, `reason` and `description` of a `PodOutcome` (the caller adds what the output showed). */
export function describeTermination(facts: TerminationFacts): Omit<PodOutcome, "stderrTail" | "stdoutLines"> {
  const { pod, containerName } = facts;
  const terminated = terminatedStateOf(pod, containerName);
  const exitCode = facts.exitCodeFromFile ?? terminated?.exitCode ?? null;
  const reason = terminated?.reason || null;
  const signal =
    (terminated?.signal ? signalName(terminated.signal) : null) ?? (exitCode === null ? null : signalFromExitCode(exitCode));

  const words: string[] = [];
  if (exitCode !== null) {
    words.push(`container ${containerName} exited ${exitCode}${signal ? ` (${signalNote(signal, reason)})` : ""}`);
  } else {
    words.push(`exit code of container ${containerName} unknown: ${unknownExitCause(facts)}`);
  }
  if (reason !== null) words.push(`reason ${reason}`);
  if (terminated?.message) words.push(`message: ${oneLine(terminated.message)}`);
  const podCause = reasonAndMessage(pod?.status?.reason, pod?.status?.message);
  if (podCause) words.push(`pod ${podCause}`);
  return { exitCode, signal, reason, description: words.join(", ") };
}

function unknownExitCause(facts: TerminationFacts): string {
  if (facts.podGone) return "pod gone before its status was read";
  if (facts.pod === undefined) return "no pod was seen";
  const phase = facts.pod.status?.phase;
  if ((phase === "Succeeded" || phase === "Failed") && !facts.statusPublished) {
    return `pod ${phase} but kubelet has not published the container state yet`;
  }
  return `pod phase ${phase ?? "Unknown"} reports no terminated state for it`;
}
