import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeletFixture, containerStatuses, stateOf, status } from "./test-fixture.ts";

let sim: KubeletFixture;
beforeEach(() => {
  sim = new KubeletFixture();
});
afterEach(async () => {
  await sim.close();
});

function shell(script: string, extra: Record<string, unknown> = {}) {
  return { name: "main", image: "busybox", command: ["sh", "-c", script], ...extra };
}

describe("Kubelet: running containers", () => {
  it("runs a container to completion with its output in the CRI log file", async () => {
    sim.createPod("hello", { containers: [shell("echo hello; echo oops >&2")] });
    const pod = await sim.waitForCompletion("hello");
    expect(status(pod).phase).toBe("Succeeded");
    const terminated = stateOf(pod, "terminated");
    expect(terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(String(terminated?.containerID)).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(sim.logText(pod, "main", "stdout")).toBe("hello\n");
    expect(sim.logText(pod, "main", "stderr")).toBe("oops\n");
    const s = status(pod);
    expect(s.podIP).toMatch(/^10\.244\./);
    expect(s.hostIP).toBeTruthy();
    expect(s.startTime).toMatch(/Z$/);
    expect(containerStatuses(pod)[0]).toMatchObject({ image: "docker.io/library/busybox:latest", ready: false, restartCount: 0 });
    expect(sim.reasons()).toEqual(expect.arrayContaining(["Pulling", "Pulled", "Created", "Started"]));
  });

  it("reports a non-zero exit as Error and a signal as 128+N", async () => {
    sim.createPod("three", { containers: [shell("exit 3")] });
    // Kubernetes expands command text: `$$` means a literal `$`, so the shell's `$$` is written `$$$$`.
    sim.createPod("killed", { containers: [shell("kill -9 $$$$")] });
    const three = await sim.waitForCompletion("three");
    expect(status(three).phase).toBe("Failed");
    expect(stateOf(three, "terminated")).toMatchObject({ exitCode: 3, reason: "Error" });
    const killed = await sim.waitForCompletion("killed");
    expect(stateOf(killed, "terminated")).toMatchObject({ exitCode: 137, signal: 9, reason: "Error" });
  });

  it("shows Running with ready conditions while the container runs", async () => {
    sim.createPod("runner", { containers: [shell("sleep 30")] });
    const pod = await sim.waitForPhase("runner", ["Running"]);
    expect(stateOf(pod, "running")?.startedAt).toBeTruthy();
    const conditions = status(pod).conditions;
    expect(conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "Ready", status: "True" }),
        expect.objectContaining({ type: "ContainersReady", status: "True" }),
        expect.objectContaining({ type: "Initialized", status: "True" }),
      ]),
    );
  });

  it("runs init containers in order before the containers, and fails the pod when one fails", async () => {
    sim.createPod("inits", {
      initContainers: [
        { name: "one", image: "busybox", command: ["sh", "-c", "echo one"] },
        { name: "two", image: "busybox", command: ["sh", "-c", "echo two"] },
      ],
      containers: [shell("echo main")],
    });
    const ok = await sim.waitForCompletion("inits");
    expect(status(ok).phase).toBe("Succeeded");
    expect(stateOf(ok, "terminated", 1, "initContainerStatuses")).toMatchObject({ exitCode: 0 });
    sim.createPod("bad-init", {
      initContainers: [{ name: "fails", image: "busybox", command: ["sh", "-c", "exit 2"] }],
      containers: [shell("echo never")],
    });
    const bad = await sim.waitForPhase("bad-init", ["Failed"]);
    expect(stateOf(bad, "terminated", 0, "initContainerStatuses")).toMatchObject({ exitCode: 2, reason: "Error" });
    expect(stateOf(bad, "waiting")).toMatchObject({ reason: "PodInitializing" });
    expect(status(bad).conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: "Initialized", status: "False", reason: "ContainersNotInitialized" })]),
    );
  });

  it("sets the working directory, expands $(VAR) in args and runs as runAsUser/runAsGroup", async () => {
    const workDir = `${sim.rootDir}/work/dir`;
    sim.createPod(
      "identity",
      {
        securityContext: { runAsUser: 2000, runAsGroup: 3000 },
        containers: [
          {
            name: "main",
            image: "busybox",
            workingDir: workDir,
            command: ["sh", "-c"],
            args: ['echo "$(id -u) $(id -g) $(pwd) $0"', "$(GREETING)"],
            env: [{ name: "GREETING", value: "hi" }],
            securityContext: { runAsUser: 1000 },
          },
        ],
      },
    );
    const pod = await sim.waitForCompletion("identity");
    expect(sim.logText(pod, "main")).toBe(`1000 3000 ${workDir} hi\n`);
  });

  it("keeps the last line without a newline and puts a multi-byte character split across writes back together", async () => {
    // printf writes the two bytes of "é" (0xc3 0xa9) in separate writes, 50ms apart.
    sim.createPod("utf8", { containers: [shell("printf 'caf\\303'; sleep 0.05; printf '\\251\\nno newline'")] });
    const pod = await sim.waitForCompletion("utf8");
    expect(sim.logText(pod, "main")).toBe("café\nno newline");
  });

  it("uses the termination message file, or the log tail with FallbackToLogsOnError", async () => {
    sim.createPod("message", { containers: [shell("echo 'custom reason' > /dev/termination-log; exit 1")] });
    sim.createPod("fallback", {
      containers: [shell("echo first; echo last words; exit 4", { terminationMessagePolicy: "FallbackToLogsOnError" })],
    });
    const message = await sim.waitForCompletion("message");
    expect(stateOf(message, "terminated")?.message).toBe("custom reason\n");
    const fallback = await sim.waitForCompletion("fallback");
    expect(stateOf(fallback, "terminated")?.message).toBe("first\nlast words");
  });

  it("reports a command that cannot be found as StartError", async () => {
    sim.createPod("missing", { containers: [{ name: "main", image: "busybox", command: ["no-such-command-here"] }] });
    const pod = await sim.waitForCompletion("missing");
    expect(stateOf(pod, "terminated")).toMatchObject({ exitCode: 128, reason: "StartError" });
    expect(String(stateOf(pod, "terminated")?.message)).toContain('exec: "no-such-command-here": executable file not found in $PATH');
  });

  it("restarts a failed container under restartPolicy OnFailure", async () => {
    const marker = `${sim.rootDir}/attempted`;
    sim.createPod("retry", {
      restartPolicy: "OnFailure",
      containers: [shell(`if [ -e ${marker} ]; then echo second; else touch ${marker}; exit 1; fi`)],
    });
    const pod = await sim.waitForPhase("retry", ["Succeeded"]);
    expect(containerStatuses(pod)[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 1 } } });
  });
});
