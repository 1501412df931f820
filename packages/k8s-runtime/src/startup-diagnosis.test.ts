import type { CoreV1Event, V1ContainerState, V1ContainerStatus, V1Pod, V1PodCondition } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  describePodState,
  diagnosePodStartup,
  diagnoseStartupEvents,
  formatWarningEvent,
  type StartupDiagnosisOptions,
} from "./startup-diagnosis.ts";

const POD = "agent-claude-3f2c9a4e-abcde";
const IMAGE = "ghcr.io/acme/claude-agent:1.4.2";
const T0 = Date.parse("2026-09-20T10:00:00Z");

/** Options with generous limits; `at` is ms after the Job was created. */
function options(at: number, overrides: Partial<StartupDiagnosisOptions> = {}): StartupDiagnosisOptions {
  return {
    containerName: "claude",
    now: T0 + at,
    jobCreatedAt: T0,
    scheduleTimeoutMs: 300_000,
    startupTimeoutMs: 600_000,
    imagePullGraceMs: 60_000,
    firstSeen: new Map(),
    ...overrides,
  };
}

const unschedulableCondition: V1PodCondition = {
  type: "PodScheduled",
  status: "False",
  reason: "Unschedulable",
  message:
    "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
  lastTransitionTime: new Date(T0 + 1000),
};

/** Conditions kubelet reports once the pod is bound and its containers are being created. */
const scheduledConditions: V1PodCondition[] = [
  { type: "PodReadyToStartContainers", status: "True", lastTransitionTime: new Date(T0 + 2000) },
  { type: "Initialized", status: "True", lastTransitionTime: new Date(T0 + 1000) },
  {
    type: "Ready",
    status: "False",
    reason: "ContainersNotReady",
    message: "containers with unready status: [claude]",
    lastTransitionTime: new Date(T0 + 1000),
  },
  {
    type: "ContainersReady",
    status: "False",
    reason: "ContainersNotReady",
    message: "containers with unready status: [claude]",
    lastTransitionTime: new Date(T0 + 1000),
  },
  { type: "PodScheduled", status: "True", lastTransitionTime: new Date(T0 + 1000) },
];

function containerStatus(state: V1ContainerState, name = "claude"): V1ContainerStatus {
  return {
    name,
    image: IMAGE,
    imageID: state.running || state.terminated ? `${IMAGE}@sha256:0123` : "",
    ready: state.running !== undefined,
    restartCount: 0,
    started: state.running !== undefined,
    state,
    lastState: {},
  };
}

function pod(status: V1Pod["status"], nodeName?: string): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: POD,
      namespace: "paperclip",
      uid: "9d1c7e0a-0000-4000-8000-000000000001",
      creationTimestamp: new Date(T0 + 200),
      labels: { "app.kubernetes.io/managed-by": "paperclip", "batch.kubernetes.io/job-name": "agent-claude-3f2c9a4e" },
    },
    spec: { containers: [{ name: "claude", image: IMAGE }], restartPolicy: "Never", ...(nodeName ? { nodeName } : {}) },
    status,
  };
}

function pendingPod(): V1Pod {
  return pod({ phase: "Pending", qosClass: "Burstable" });
}

function unschedulablePod(): V1Pod {
  return pod({ phase: "Pending", conditions: [unschedulableCondition], qosClass: "Burstable" });
}

function waitingPod(reason: string, message?: string, name = "claude"): V1Pod {
  return pod(
    {
      phase: "Pending",
      conditions: scheduledConditions,
      hostIP: "10.0.0.12",
      podIP: "10.244.1.17",
      startTime: new Date(T0 + 1000),
      containerStatuses: [containerStatus({ waiting: { reason, ...(message ? { message } : {}) } }, name)],
      qosClass: "Burstable",
    },
    "node-a",
  );
}

function runningPod(): V1Pod {
  return pod(
    {
      phase: "Running",
      conditions: scheduledConditions,
      containerStatuses: [containerStatus({ running: { startedAt: new Date(T0 + 5000) } })],
    },
    "node-a",
  );
}

/** Calls the diagnosis at successive times with one shared state, as the caller does on each watch event. */
function observe(podAt: (at: number) => V1Pod | undefined, times: number[], overrides: Partial<StartupDiagnosisOptions> = {}) {
  const firstSeen = new Map<string, number>();
  return times.map((at) => diagnosePodStartup(podAt(at), options(at, { firstSeen, ...overrides })));
}

describe("diagnosePodStartup", () => {
  it("waits for the Job controller to create the pod, then times out naming the likely causes", () => {
    expect(diagnosePodStartup(undefined, options(1000))).toEqual({
      kind: "pending",
      detail: "waiting for the Job controller to create the pod",
    });
    const failed = diagnosePodStartup(undefined, options(300_000));
    expect(failed).toMatchObject({ kind: "failed", code: "k8s_pod_schedule_failed", reason: "ScheduleTimeout", permanent: false });
    expect(failed.kind === "failed" && failed.message).toMatch(/No pod was created for the Job within 300s.*ResourceQuota/);
  });

  it("fails fast on Unschedulable with the scheduler's message", () => {
    const result = diagnosePodStartup(unschedulablePod(), options(1500));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_pod_schedule_failed", reason: "Unschedulable" });
    expect(result.kind === "failed" && result.message).toContain("0/3 nodes are available: 1 node(s) had untolerated taint");
    expect(result.kind === "failed" && result.message).toContain(POD);
  });

  it("gives Unschedulable a grace when asked (node autoscaling)", () => {
    const results = observe(() => unschedulablePod(), [1000, 60_000, 121_000], { unschedulableGraceMs: 120_000 });
    expect(results.map((result) => result.kind)).toEqual(["pending", "pending", "failed"]);
    expect(results[2]).toMatchObject({ reason: "Unschedulable" });
  });

  it("times out a pod that stays unscheduled without a reason", () => {
    expect(diagnosePodStartup(pendingPod(), options(299_000)).kind).toBe("pending");
    const result = diagnosePodStartup(pendingPod(), options(300_000));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_pod_schedule_failed", reason: "ScheduleTimeout" });
    expect(result.kind === "failed" && result.message).toMatch(/still not scheduled 300s after the Job was created/);
  });

  it.each([
    [
      "InvalidImageName",
      'Failed to apply default image tag "ghcr.io/Acme/claude-agent:": couldn\'t parse image name "ghcr.io/Acme/claude-agent:": invalid reference format',
    ],
    ["ErrImageNeverPull", `Container image "${IMAGE}" is not present with pull policy of Never`],
  ])("fails at once on %s (permanent)", (reason, message) => {
    const result = diagnosePodStartup(waitingPod(reason, message), options(3000));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_image_pull_failed", reason, permanent: true });
    expect(result.kind === "failed" && result.message).toContain(message.slice(0, 40));
    expect(result.kind === "failed" && result.message).toContain(IMAGE);
  });

  it("gives ErrImagePull/ImagePullBackOff a grace period, then fails saying it may be transient", () => {
    const pullError =
      'rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/acme/claude-agent:1.4.2": failed to resolve reference "ghcr.io/acme/claude-agent:1.4.2": ghcr.io/acme/claude-agent:1.4.2: not found';
    const backOff = `Back-off pulling image "${IMAGE}"`;
    // kubelet alternates between the two reasons while it backs off; the grace runs across both.
    const states = (at: number): V1Pod =>
      at % 2 === 0 ? waitingPod("ErrImagePull", pullError) : waitingPod("ImagePullBackOff", backOff);
    const results = observe(states, [4000, 20_001, 40_000, 63_999, 64_001]);
    expect(results.slice(0, 4).map((result) => result.kind)).toEqual(["pending", "pending", "pending", "pending"]);
    const failed = results[4];
    expect(failed).toMatchObject({ kind: "failed", code: "k8s_image_pull_failed", reason: "ImagePullBackOff", permanent: false });
    expect(failed?.kind === "failed" && failed.message).toMatch(/after 60s.*can be transient/);
  });

  it("restarts the pull grace when a pull error clears and comes back", () => {
    const firstSeen = new Map<string, number>();
    const at = (ms: number, p: V1Pod) => diagnosePodStartup(p, options(ms, { firstSeen }));
    expect(at(1000, waitingPod("ErrImagePull", "timeout")).kind).toBe("pending");
    expect(at(50_000, waitingPod("ContainerCreating")).kind).toBe("pending");
    expect(at(70_000, waitingPod("ErrImagePull", "timeout")).kind).toBe("pending");
    expect(at(129_999, waitingPod("ImagePullBackOff", "Back-off")).kind).toBe("pending");
    expect(at(130_000, waitingPod("ImagePullBackOff", "Back-off")).kind).toBe("failed");
  });

  it("fails on CreateContainerConfigError only once it persists", () => {
    const message = 'couldn\'t find key PAPERCLIP_API_KEY in Secret paperclip/agent-claude-3f2c9a4e-env';
    const results = observe(() => waitingPod("CreateContainerConfigError", message), [2000, 21_999, 22_000]);
    expect(results.map((result) => result.kind)).toEqual(["pending", "pending", "failed"]);
    expect(results[2]).toMatchObject({ code: "k8s_pod_start_failed", reason: "CreateContainerConfigError", permanent: true });
    expect(results[2]?.kind === "failed" && results[2].message).toContain("couldn't find key PAPERCLIP_API_KEY");
  });

  it("honours a configured create-error grace", () => {
    const results = observe(() => waitingPod("CreateContainerError", "failed to reserve container name"), [1000, 6000], {
      configErrorGraceMs: 5000,
    });
    expect(results.map((result) => result.kind)).toEqual(["pending", "failed"]);
  });

  it("fails at once on CrashLoopBackOff", () => {
    const message = `back-off 10s restarting failed container=claude pod=${POD}_paperclip(9d1c7e0a)`;
    const result = diagnosePodStartup(waitingPod("CrashLoopBackOff", message), options(9000));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_pod_start_failed", reason: "CrashLoopBackOff" });
    expect(result.kind === "failed" && result.message).toContain("keeps crashing");
  });

  it("fails when the pod failed before the container could run (exec failed)", () => {
    const failedPod = pod(
      {
        phase: "Failed",
        conditions: scheduledConditions,
        containerStatuses: [
          containerStatus({
            terminated: {
              exitCode: 128,
              reason: "StartError",
              message:
                'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown',
              startedAt: new Date(0),
              finishedAt: new Date(T0 + 4000),
              containerID: "containerd://abc",
            },
          }),
        ],
      },
      "node-a",
    );
    const result = diagnosePodStartup(failedPod, options(4000));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_pod_start_failed", reason: "StartError", permanent: true });
    expect(result.kind === "failed" && result.message).toContain('exec: "sh": executable file not found');
  });

  it("fails when the pod was evicted before the container started", () => {
    const evicted = pod(
      {
        phase: "Failed",
        reason: "Evicted",
        message: "The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. ",
        containerStatuses: [containerStatus({ waiting: { reason: "ContainerCreating" } })],
      },
      "node-a",
    );
    const result = diagnosePodStartup(evicted, options(4000));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_pod_start_failed", reason: "Evicted", permanent: false });
    expect(result.kind === "failed" && result.message).toContain("low on resource: ephemeral-storage");
  });

  it("reports running, and terminated once the container has run", () => {
    expect(diagnosePodStartup(runningPod(), options(5000))).toEqual({ kind: "running" });
    const done = pod(
      {
        phase: "Failed",
        containerStatuses: [
          containerStatus({
            terminated: { exitCode: 137, reason: "OOMKilled", startedAt: new Date(T0 + 5000), finishedAt: new Date(T0 + 9000) },
          }),
        ],
      },
      "node-a",
    );
    expect(diagnosePodStartup(done, options(9000))).toEqual({ kind: "terminated" });
    expect(diagnosePodStartup(pod({ phase: "Succeeded" }, "node-a"), options(9000))).toEqual({ kind: "terminated" });
  });

  it("times out start-up counted from when the pod was first seen scheduled", () => {
    const results = observe(() => waitingPod("ContainerCreating"), [250_000, 849_999, 850_000]);
    expect(results.map((result) => result.kind)).toEqual(["pending", "pending", "failed"]);
    expect(results[2]).toMatchObject({ code: "k8s_pod_start_failed", reason: "StartupTimeout" });
    expect(results[2]?.kind === "failed" && results[2].message).toContain("container claude: waiting ContainerCreating");
  });

  it("looks at init containers too", () => {
    const p = pod(
      {
        phase: "Pending",
        conditions: scheduledConditions,
        initContainerStatuses: [containerStatus({ waiting: { reason: "InvalidImageName", message: "bad" } }, "setup")],
        containerStatuses: [containerStatus({ waiting: { reason: "PodInitializing" } })],
      },
      "node-a",
    );
    const result = diagnosePodStartup(p, options(2000));
    expect(result).toMatchObject({ kind: "failed", code: "k8s_image_pull_failed" });
    expect(result.kind === "failed" && result.message).toContain("init container setup");
  });

  it("forgets conditions that cleared", () => {
    const firstSeen = new Map<string, number>();
    diagnosePodStartup(waitingPod("ErrImagePull", "x"), options(1000, { firstSeen }));
    expect([...firstSeen.keys()].sort()).toEqual(["image-pull:claude", "scheduled"]);
    diagnosePodStartup(runningPod(), options(2000, { firstSeen }));
    expect(firstSeen.size).toBe(0);
  });
});

describe("describePodState", () => {
  it("describes an unschedulable pod in one line", () => {
    expect(describePodState(unschedulablePod())).toBe(
      `Pod ${POD}: phase=Pending, PodScheduled=False (Unschedulable: ${unschedulableCondition.message}), no container status yet`,
    );
  });

  it("describes a pulling-failed container", () => {
    expect(describePodState(waitingPod("ErrImagePull", "rpc error:\n  not found"))).toBe(
      `Pod ${POD}: phase=Pending, PodScheduled=True, container claude: waiting ErrImagePull (rpc error: not found)`,
    );
  });

  it("is stable while nothing changes and differs on each change (post each change once)", () => {
    const seen = [waitingPod("ContainerCreating"), waitingPod("ContainerCreating"), runningPod(), runningPod()].map(
      describePodState,
    );
    expect(new Set(seen).size).toBe(2);
    expect(seen[2]).toBe(`Pod ${POD}: phase=Running, PodScheduled=True, container claude: running`);
  });

  it("includes the pod's reason and termination, cuts long messages", () => {
    const long = "x".repeat(1000);
    const p = pod({
      phase: "Failed",
      reason: "Evicted",
      message: long,
      containerStatuses: [containerStatus({ terminated: { exitCode: 1, reason: "Error" } })],
    });
    const line = describePodState(p);
    expect(line).toContain("reason Evicted: xxx");
    expect(line).toContain("container claude: terminated exit 1 (Error)");
    expect(line.length).toBeLessThan(450);
    expect(line).not.toContain("\n");
  });
});

describe("formatWarningEvent", () => {
  function event(overrides: Partial<CoreV1Event>): CoreV1Event {
    return {
      metadata: { name: `${POD}.17f0a`, namespace: "paperclip" },
      involvedObject: { kind: "Pod", name: POD, namespace: "paperclip", uid: "9d1c7e0a" },
      reason: "FailedScheduling",
      message: unschedulableCondition.message,
      type: "Warning",
      count: 1,
      source: { component: "default-scheduler" },
      ...overrides,
    };
  }

  it("formats a Warning event", () => {
    expect(formatWarningEvent(event({}))).toBe(`Warning FailedScheduling on Pod ${POD}: ${unschedulableCondition.message}`);
  });

  it("adds the repeat count from the series or the legacy counter", () => {
    expect(formatWarningEvent(event({ reason: "BackOff", message: "Back-off pulling image", count: 4 }))).toBe(
      `Warning BackOff on Pod ${POD}: Back-off pulling image (x4)`,
    );
    expect(formatWarningEvent(event({ series: { count: 7 }, count: undefined }))).toMatch(/\(x7\)$/);
  });

  it("ignores Normal events", () => {
    expect(formatWarningEvent(event({ type: "Normal", reason: "Pulling" }))).toBeNull();
  });
});

describe("diagnoseStartupEvents", () => {
  const JOB = "agent-claude-3f2c9a4e";
  // The Job controller's event when Pod Security admission refuses the pod (message as the sim and a real cluster word it).
  const refusedByAdmission: CoreV1Event = {
    metadata: { name: `${JOB}.18a2b`, namespace: "paperclip" },
    involvedObject: { kind: "Job", name: JOB, namespace: "paperclip" },
    reason: "FailedCreate",
    type: "Warning",
    message: `Error creating: pods "${POD}" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "claude" must set securityContext.runAsNonRoot=true)`,
  };
  const multiAttach: CoreV1Event = {
    metadata: { name: `${POD}.18a2c`, namespace: "paperclip" },
    involvedObject: { kind: "Pod", name: POD, namespace: "paperclip" },
    reason: "FailedAttachVolume",
    type: "Warning",
    message: 'Multi-Attach error for volume "pvc-1234" Volume is already used by pod(s) paperclip-5d8f7-x2k9q',
  };

  it("a pod refused by admission fails at once, quoting the violated rule", () => {
    const diagnosis = diagnoseStartupEvents([refusedByAdmission], { now: T0, volumeAttachGraceMs: 30_000, firstSeen: new Map() });
    expect(diagnosis).toEqual({
      kind: "failed",
      code: "k8s_pod_create_refused",
      reason: "FailedCreate",
      message: `Kubernetes refused to create the pod of Job ${JOB}: ${refusedByAdmission.message}`,
      permanent: true,
    });
  });

  it("a quota refusal fails too, as not permanent", () => {
    const quota = { ...refusedByAdmission, message: `Error creating: pods "${POD}" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=8, limited: cpu=8` };
    expect(diagnoseStartupEvents([quota], { now: T0, volumeAttachGraceMs: 30_000, firstSeen: new Map() })).toMatchObject({ code: "k8s_pod_create_refused", permanent: false });
  });

  it("a Multi-Attach hold fails once it has lasted the grace period, naming the volume and its holder", () => {
    const firstSeen = new Map<string, number>();
    expect(diagnoseStartupEvents([multiAttach], { now: T0, volumeAttachGraceMs: 30_000, firstSeen })).toBeNull();
    expect(diagnoseStartupEvents([multiAttach], { now: T0 + 29_000, volumeAttachGraceMs: 30_000, firstSeen })).toBeNull();
    expect(diagnoseStartupEvents([multiAttach], { now: T0 + 30_000, volumeAttachGraceMs: 30_000, firstSeen })).toEqual({
      kind: "failed",
      code: "k8s_volume_attach_failed",
      reason: "FailedAttachVolume",
      message: `Pod ${POD} could not attach its volume for 30s: ${multiAttach.message}`,
      permanent: false,
    });
  });

  it("a hold that cleared starts its grace again; Normal events and other warnings end nothing", () => {
    const firstSeen = new Map<string, number>();
    expect(diagnoseStartupEvents([multiAttach], { now: T0, volumeAttachGraceMs: 30_000, firstSeen })).toBeNull();
    expect(diagnoseStartupEvents([], { now: T0 + 20_000, volumeAttachGraceMs: 30_000, firstSeen })).toBeNull();
    expect(diagnoseStartupEvents([multiAttach], { now: T0 + 40_000, volumeAttachGraceMs: 30_000, firstSeen })).toBeNull();
    const normal = { ...refusedByAdmission, type: "Normal", reason: "SuccessfulCreate", message: `Created pod: ${POD}` };
    const backOff = { ...multiAttach, reason: "BackOff", message: "Back-off pulling image" };
    expect(diagnoseStartupEvents([normal, backOff], { now: T0, volumeAttachGraceMs: 30_000, firstSeen: new Map() })).toBeNull();
  });
});
