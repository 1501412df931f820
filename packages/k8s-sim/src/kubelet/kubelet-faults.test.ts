import { mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { K8sObject } from "../store.ts";
import { KubeletFixture, containerStatuses, processesWithMarker, stateOf, status } from "./test-fixture.ts";

let sim: KubeletFixture | undefined;
function start(options: ConstructorParameters<typeof KubeletFixture>[0] = {}): KubeletFixture {
  sim = new KubeletFixture(options);
  return sim;
}
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function shell(script: string, extra: Record<string, unknown> = {}) {
  return { name: "main", image: "busybox", command: ["sh", "-c", script], ...extra };
}

function waitingReason(pod: K8sObject | undefined): unknown {
  return pod ? stateOf(pod, "waiting")?.reason : undefined;
}

describe("Kubelet: images", () => {
  it("puts a registered image's directories first on PATH, matching default registry and tag", async () => {
    const s = start({ acceptAnyImage: false });
    const bin = `${s.rootDir}/image-bin`;
    mkdirSync(bin);
    writeFileSync(`${bin}/agent-cli`, "#!/bin/sh\necho agent ran\n");
    chmodSync(bin, 0o755);
    chmodSync(`${bin}/agent-cli`, 0o755);
    s.kubelet.registerImage("docker.io/library/agent:latest", [bin]);
    s.createPod("image", { containers: [{ name: "main", image: "agent", command: ["agent-cli"] }] });
    const pod = await s.waitForCompletion("image");
    expect(s.logText(pod, "main")).toBe("agent ran\n");
    expect(containerStatuses(pod)[0]?.imageID).toMatch(/^docker\.io\/library\/agent@sha256:[0-9a-f]{64}$/);
  });

  it("alternates ErrImagePull and ImagePullBackOff for an unknown image until it is registered", async () => {
    const s = start({ acceptAnyImage: false });
    s.createPod("pull", { containers: [shell("echo pulled", { image: "ghcr.io/acme/agent:1.0" })] });
    const failed = await s.waitFor("ErrImagePull", () => {
      const pod = s.pod("pull");
      return waitingReason(pod) === "ErrImagePull" && pod;
    });
    expect(String(stateOf(failed, "waiting")?.message)).toBe(
      'failed to pull and unpack image "ghcr.io/acme/agent:1.0": failed to resolve reference "ghcr.io/acme/agent:1.0": ghcr.io/acme/agent:1.0: not found',
    );
    const backoff = await s.waitFor("ImagePullBackOff", () => {
      const pod = s.pod("pull");
      return waitingReason(pod) === "ImagePullBackOff" && pod;
    });
    expect(stateOf(backoff, "waiting")?.message).toBe('Back-off pulling image "ghcr.io/acme/agent:1.0"');
    expect(status(backoff).phase).toBe("Pending");
    expect(s.reasons()).toEqual(expect.arrayContaining(["Pulling", "Failed", "BackOff"]));
    s.kubelet.registerImage("ghcr.io/acme/agent:1.0", ["/usr/bin"]);
    const pod = await s.waitForCompletion("pull");
    expect(s.logText(pod, "main")).toBe("pulled\n");
  });

  it("reports InvalidImageName for a malformed reference and ErrImageNeverPull for pull policy Never", async () => {
    const s = start({ acceptAnyImage: false });
    s.createPod("invalid", { containers: [shell("true", { image: "Bad::Image" })] });
    s.createPod("never", { containers: [shell("true", { image: "absent:2", imagePullPolicy: "Never" })] });
    const invalid = await s.waitFor("InvalidImageName", () => {
      const pod = s.pod("invalid");
      return waitingReason(pod) === "InvalidImageName" && pod;
    });
    expect(stateOf(invalid, "waiting")?.message).toBe(
      'Failed to apply default image tag "Bad::Image": couldn\'t parse image name "Bad::Image": invalid reference format',
    );
    const never = await s.waitFor("ErrImageNeverPull", () => {
      const pod = s.pod("never");
      return waitingReason(pod) === "ErrImageNeverPull" && pod;
    });
    expect(stateOf(never, "waiting")?.message).toBe('Container image "absent:2" is not present with pull policy of Never');
    expect(s.reasons()).toEqual(expect.arrayContaining(["InspectFailed", "ErrImageNeverPull"]));
  });
});

describe("Kubelet: deletion", () => {
  it("sends SIGTERM on graceful deletion, lets the trap run, then removes the pod", async () => {
    const s = start();
    const flag = `${s.rootDir}/terminated`;
    s.createPod("graceful", { containers: [shell(`trap 'echo bye > ${flag}; exit 0' TERM; echo up; while true; do sleep 0.05; done`)] });
    await s.waitFor("log line", () => {
      const pod = s.pod("graceful");
      return pod && stateOf(pod, "running") && s.logText(pod, "main") === "up\n";
    });
    s.store.mutate("pods", "default", "graceful", (pod) => {
      pod.metadata.deletionTimestamp = new Date().toISOString();
      pod.metadata.deletionGracePeriodSeconds = 5;
    });
    await s.waitFor("pod removed", () => s.pod("graceful") === undefined);
    expect(readFileSync(flag, "utf8")).toBe("bye\n");
    expect(s.reasons()).toContain("Killing");
  });

  it("SIGKILLs after the grace period, and kills at once when the pod is removed outright", async () => {
    const s = start();
    const marker = `MARKER_${Date.now()}`;
    s.createPod("stubborn", { containers: [shell("trap '' TERM; echo ready; while true; do sleep 0.05; done", { env: [{ name: marker, value: "1" }] })] });
    s.createPod("removed", { containers: [shell("sleep 30", { env: [{ name: marker, value: "2" }] })] });
    const running = await s.waitForPhase("stubborn", ["Running"]);
    await s.waitFor("trap installed", () => s.logText(running, "main") === "ready\n");
    await s.waitForPhase("removed", ["Running"]);
    const deletions: K8sObject[] = [];
    s.store.subscribe("pods", (event) => {
      if (event.object.metadata.name === "stubborn") deletions.push(event.object);
    });
    s.store.mutate("pods", "default", "stubborn", (pod) => {
      pod.metadata.deletionTimestamp = new Date().toISOString();
      pod.metadata.deletionGracePeriodSeconds = 1;
    });
    s.store.remove("pods", "default", "removed");
    await s.waitFor("pod removed", () => s.pod("stubborn") === undefined);
    const lastStatus = deletions.filter((pod) => containerStatuses(pod).length > 0).at(-1);
    expect(lastStatus && stateOf(lastStatus, "terminated")).toMatchObject({ exitCode: 137 });
    expect(lastStatus && status(lastStatus).phase).toBe("Failed");
    await s.waitFor("no processes left", () => processesWithMarker(marker).length === 0);
  });
});

describe("Kubelet: faults", () => {
  it("with status lag publishes the terminal phase before the terminated state", async () => {
    const s = start();
    s.faults.statusLagMs = 300;
    const seen: { phase: unknown; terminated: boolean }[] = [];
    s.store.subscribe("pods", (event) => {
      seen.push({ phase: status(event.object).phase, terminated: stateOf(event.object, "terminated") !== undefined });
    });
    s.createPod("lag", { containers: [shell("exit 0")] });
    await s.waitForCompletion("lag");
    const firstTerminal = seen.find((entry) => entry.phase === "Succeeded");
    expect(firstTerminal).toEqual({ phase: "Succeeded", terminated: false });
    expect(seen.at(-1)).toEqual({ phase: "Succeeded", terminated: true });
  });

  it("holds a pod in ContainerCreating until released", async () => {
    const s = start();
    s.faults.holdInContainerCreating("default/held");
    s.createPod("held", { containers: [shell("echo released")] });
    await s.waitFor("ContainerCreating", () => waitingReason(s.pod("held")) === "ContainerCreating");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(waitingReason(s.pod("held"))).toBe("ContainerCreating");
    s.faults.releaseContainerCreating("default/held");
    const pod = await s.waitForCompletion("held");
    expect(status(pod).phase).toBe("Succeeded");
  });

  it("evicts a pod: processes killed, phase Failed, reason Evicted, DisruptionTarget", async () => {
    const s = start();
    s.createPod("evictee", { containers: [shell("sleep 30")] });
    await s.waitForPhase("evictee", ["Running"]);
    s.kubelet.evict("default", "evictee");
    const pod = await s.waitForCompletion("evictee");
    expect(status(pod)).toMatchObject({ phase: "Failed", reason: "Evicted" });
    expect(String(status(pod).message)).toMatch(/^The node was low on resource: memory\./);
    expect(status(pod).conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "DisruptionTarget", status: "True", reason: "TerminationByKubelet" })]),
    );
    expect(stateOf(pod, "terminated")).toMatchObject({ exitCode: 137 });
    expect(s.reasons()).toContain("Evicted");
  });

  it("OOM-kills a container on demand: exit 137, reason OOMKilled, event OOMKilling", async () => {
    const s = start();
    s.createPod("oom", { containers: [shell("sleep 30")] });
    await s.waitForPhase("oom", ["Running"]);
    expect(() => s.kubelet.oomKill("default", "nope")).toThrow(/not running/);
    s.kubelet.oomKill("default", "oom", "main");
    const pod = await s.waitForCompletion("oom");
    expect(stateOf(pod, "terminated")).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    expect(s.reasons()).toContain("OOMKilling");
  });

  it("enforces limits.memory with a memory cgroup where the host allows it", async () => {
    const s = start();
    // dash keeps a command substitution's output in memory: ~64 MB against a 16 MiB limit.
    s.createPod("hog", {
      containers: [shell("x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo survived", { resources: { limits: { memory: "16Mi" } } })],
    });
    const pod = await s.waitForCompletion("hog");
    if (s.kubelet.enforcesMemoryLimits) {
      expect(stateOf(pod, "terminated")).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
      expect(s.reasons()).toContain("OOMKilling");
    } else {
      expect(s.logText(pod, "main")).toBe("survived\n");
    }
  });

  it("kills a removed node's processes without writing their status", async () => {
    const s = start();
    const marker = `NODEMARK_${Date.now()}`;
    s.store.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "sim-node-1" } });
    s.createPod("orphan", { containers: [shell("sleep 30", { env: [{ name: marker, value: "1" }] })] });
    await s.waitForPhase("orphan", ["Running"]);
    await s.waitFor("container process", () => processesWithMarker(marker).length > 0);
    s.store.remove("nodes", undefined, "sim-node-1");
    await s.waitFor("processes gone", () => processesWithMarker(marker).length === 0);
    expect(status(s.pod("orphan") ?? { apiVersion: "v1", kind: "Pod", metadata: {} }).phase).toBe("Running");
  });

  it("stop() leaves no process and no mount behind", async () => {
    const s = start();
    const marker = `STOPMARK_${Date.now()}`;
    const target = `${s.rootDir}/mnt/stop`;
    s.createPod("survivor", {
      volumes: [{ name: "v", emptyDir: {} }],
      containers: [
        shell("trap '' TERM; (sleep 60 &); while true; do sleep 0.05; done", {
          env: [{ name: marker, value: "1" }],
          volumeMounts: [{ name: "v", mountPath: target }],
        }),
      ],
    });
    await s.waitForPhase("survivor", ["Running"]);
    await s.waitFor("the container and its background child", () => processesWithMarker(marker).length >= 2);
    await s.kubelet.stop();
    expect(processesWithMarker(marker)).toEqual([]);
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(s.rootDir);
  });
});
