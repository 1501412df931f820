import type { V1ContainerStateTerminated, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { describeTermination, signalName } from "./terminated-state.ts";

const T0 = Date.parse("2026-09-20T10:00:00Z");

function terminatedPod(terminated: V1ContainerStateTerminated | undefined, status: Partial<NonNullable<V1Pod["status"]>> = {}): V1Pod {
  return {
    metadata: { name: "agent-claude-3f2c9a4e-abcde", namespace: "paperclip" },
    spec: { containers: [{ name: "claude", image: "agent:1" }], restartPolicy: "Never" },
    status: {
      phase: "Failed",
      containerStatuses: [
        {
          name: "claude",
          image: "agent:1",
          imageID: "agent@sha256:0123",
          ready: false,
          restartCount: 0,
          started: false,
          state: terminated === undefined ? { waiting: { reason: "ContainerCreating" } } : { terminated },
          lastState: {},
        },
      ],
      ...status,
    },
  };
}

const base = { containerName: "claude", exitCodeFromFile: null, podGone: false, statusPublished: true };

describe("describeTermination", () => {
  it("names SIGKILL and says it is commonly an OOM kill when the reason does not say so", () => {
    const pod = terminatedPod({ exitCode: 137, reason: "Error", startedAt: new Date(T0), finishedAt: new Date(T0 + 9000) });
    expect(describeTermination({ ...base, pod })).toEqual({
      exitCode: 137,
      signal: "SIGKILL",
      reason: "Error",
      description: "container claude exited 137 (SIGKILL, commonly OOMKilled), reason Error",
    });
  });

  it("does not guess when the reason is OOMKilled", () => {
    const pod = terminatedPod({ exitCode: 137, reason: "OOMKilled" });
    expect(describeTermination({ ...base, pod }).description).toBe(
      "container claude exited 137 (SIGKILL), reason OOMKilled",
    );
  });

  it("explains SIGTERM (143)", () => {
    const result = describeTermination({ ...base, exitCodeFromFile: 143 });
    expect(result.signal).toBe("SIGTERM");
    expect(result.description).toContain("exited 143 (SIGTERM: the pod was asked to stop");
  });

  it.each([
    [129, "SIGHUP"],
    [130, "SIGINT"],
    [134, "SIGABRT"],
    [139, "SIGSEGV"],
    [141, "SIGPIPE"],
    [159, "SIGSYS"],
    [162, "SIGRTMIN"],
    [163, "SIGRTMIN+1"],
  ])("names the signal of exit code %i as %s", (exitCode, signal) => {
    expect(describeTermination({ ...base, exitCodeFromFile: exitCode }).signal).toBe(signal);
  });

  it.each([0, 1, 2, 127, 128, 255])("reports no signal for exit code %i", (exitCode) => {
    const result = describeTermination({ ...base, exitCodeFromFile: exitCode });
    expect(result.signal).toBeNull();
    expect(result.description).toBe(`container claude exited ${exitCode}`);
  });

  it("prefers the exit-code file over the container state", () => {
    const pod = terminatedPod({ exitCode: 2, reason: "Error" });
    const result = describeTermination({ ...base, pod, exitCodeFromFile: 1 });
    expect(result.exitCode).toBe(1);
    expect(result.reason).toBe("Error");
  });

  it("uses the signal kubelet reports", () => {
    const pod = terminatedPod({ exitCode: 0, signal: 9, reason: "Error" });
    expect(describeTermination({ ...base, pod }).signal).toBe("SIGKILL");
  });

  it("includes the termination message and the pod's reason in one line", () => {
    const pod = terminatedPod(
      { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located\nwhen the pod was terminated" },
      { reason: "Evicted", message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 56Mi." },
    );
    expect(describeTermination({ ...base, pod }).description).toBe(
      "container claude exited 137 (SIGKILL, commonly OOMKilled), reason ContainerStatusUnknown, " +
        "message: The container could not be located when the pod was terminated, " +
        "pod Evicted: The node was low on resource: memory. Threshold quantity: 100Mi, available: 56Mi.",
    );
  });

  it("says the pod was gone before its status was read", () => {
    const result = describeTermination({ ...base, podGone: true });
    expect(result).toEqual({
      exitCode: null,
      signal: null,
      reason: null,
      description: "exit code of container claude unknown: pod gone before its status was read",
    });
  });

  it("says kubelet has not published the container state yet", () => {
    const pod = terminatedPod(undefined);
    const result = describeTermination({ ...base, pod, statusPublished: false });
    expect(result.exitCode).toBeNull();
    expect(result.description).toBe(
      "exit code of container claude unknown: pod Failed but kubelet has not published the container state yet",
    );
  });

  it("says when a pod reports no terminated state, or no pod was seen", () => {
    expect(describeTermination({ ...base, pod: terminatedPod(undefined, { phase: "Running" }) }).description).toBe(
      "exit code of container claude unknown: pod phase Running reports no terminated state for it",
    );
    expect(describeTermination(base).description).toBe("exit code of container claude unknown: no pod was seen");
  });
});

describe("signalName", () => {
  it("maps Linux signal numbers and rejects the rest", () => {
    expect(signalName(9)).toBe("SIGKILL");
    expect(signalName(15)).toBe("SIGTERM");
    expect(signalName(10)).toBe("SIGUSR1");
    expect(signalName(32)).toBe("SIG32");
    expect(signalName(64)).toBe("SIGRTMIN+30");
    expect(signalName(0)).toBeNull();
    expect(signalName(65)).toBeNull();
    expect(signalName(1.5)).toBeNull();
  });
});
