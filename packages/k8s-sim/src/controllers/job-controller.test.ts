import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { objectAt, objectsAt } from "../api/json.ts";
import { deletePod } from "../pod-deletion.ts";
import type { K8sObject } from "../store.ts";
import { ObjectStore } from "../store.ts";
import { JobController } from "./job-controller.ts";

let store: ObjectStore;
let controller: JobController;
const errors: unknown[] = [];

beforeEach(() => {
  store = new ObjectStore();
  // The Job controller's pods go through service-account admission: the account the service-account controller keeps.
  store.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "default" } });
  errors.length = 0;
  controller = new JobController(store, { backoffBaseMs: 1, backoffMaxMs: 5, onError: (error) => errors.push(error) });
  controller.start();
});

afterEach(async () => {
  await controller.stop();
  expect(errors).toEqual([]);
});

function createJob(name: string, spec: Record<string, unknown> = {}, namespace = "default"): K8sObject {
  return store.create("jobs", {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace },
    spec: {
      template: {
        metadata: { labels: { app: "agent" }, annotations: { note: "kept" } },
        spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox", command: ["true"] }] },
      },
      ...spec,
    },
  });
}

function jobStatus(name: string): Record<string, unknown> {
  return objectAt(store.get("jobs", "default", name), "status") ?? {};
}

function conditionSummary(name: string): string[] {
  return objectsAt(jobStatus(name), "conditions").map((c) => `${String(c.type)}=${String(c.status)}:${String(c.reason)}`);
}

function podsOf(job: K8sObject): K8sObject[] {
  return store.list("pods", {
    namespace: job.metadata.namespace,
    filter: (pod) => pod.metadata.ownerReferences?.some((owner) => owner.uid === job.metadata.uid) === true,
  }).items;
}

async function onlyPod(job: K8sObject): Promise<K8sObject> {
  return vi.waitFor(() => {
    const pods = podsOf(job);
    expect(pods).toHaveLength(1);
    return pods[0] as K8sObject;
  });
}

/** Plays the kubelet: moves a pod to a phase. */
function setPhase(pod: K8sObject, phase: string, extra: Record<string, unknown> = {}): void {
  store.mutate("pods", pod.metadata.namespace, pod.metadata.name ?? "", (current) => {
    current.status = { ...objectAt(current, "status"), phase, ...extra };
  });
}

function eventReasons(involvedName: string): string[] {
  return store
    .list("events", { filter: (event) => objectAt(event, "involvedObject")?.name === involvedName })
    .items.map((event) => `${String(event.reason)}: ${String(event.message)}`);
}

describe("JobController pod creation", () => {
  it("creates one pod named <job>-<5 chars> with the labels, annotation and ownerReference a real Job controller sets", async () => {
    const job = createJob("hello");
    const pod = await onlyPod(job);
    const uid = job.metadata.uid ?? "";

    expect(pod.metadata.name).toMatch(/^hello-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.metadata.generateName).toBe("hello-");
    expect(pod.metadata.labels).toEqual({
      app: "agent",
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "hello",
      "controller-uid": uid,
      "job-name": "hello",
    });
    expect(pod.metadata.annotations).toEqual({ note: "kept", "batch.kubernetes.io/job-tracking": "" });
    expect(pod.metadata.ownerReferences).toEqual([
      { apiVersion: "batch/v1", kind: "Job", name: "hello", uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(objectAt(pod, "status")?.phase).toBe("Pending");
    expect(objectAt(pod, "spec")?.containers).toEqual([
      expect.objectContaining({ name: "main", image: "busybox", command: ["true"] }),
    ]);

    await vi.waitFor(() => {
      const status = jobStatus("hello");
      expect(status).toMatchObject({ active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
      expect(status.startTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(status.succeeded).toBeUndefined();
      expect(status.failed).toBeUndefined();
    });
    expect(eventReasons("hello")).toEqual([`SuccessfulCreate: Created pod: ${pod.metadata.name}`]);
  });

  it("cuts a long Job name to 58 characters before the suffix, as generateName does", async () => {
    const name = "j".repeat(63);
    const pod = await onlyPod(createJob(name));
    expect(pod.metadata.name).toHaveLength(63);
    expect(pod.metadata.name?.startsWith("j".repeat(58))).toBe(true);
    expect(pod.metadata.labels?.["job-name"]).toBe(name);
  });

  it("counts a pod with Ready=True as ready", async () => {
    const job = createJob("ready");
    const pod = await onlyPod(job);
    setPhase(pod, "Running", { conditions: [{ type: "Ready", status: "True" }] });
    await vi.waitFor(() => expect(jobStatus("ready")).toMatchObject({ active: 1, ready: 1 }));
  });

  it("reports a Job it cannot create pods for with FailedCreate and keeps serving other Jobs", async () => {
    store.create("jobs", { apiVersion: "batch/v1", kind: "Job", metadata: { name: "broken", namespace: "default" }, spec: {} });
    await onlyPod(createJob("fine"));
    await vi.waitFor(() =>
      expect(eventReasons("broken")).toEqual(["FailedCreate: Error creating: Job default/broken has no spec.template.spec to create pods from"]),
    );
  });
});

describe("JobController success", () => {
  it("writes SuccessCriteriaMet then Complete, completionTime and succeeded=1 when the pod succeeds", async () => {
    const job = createJob("done");
    setPhase(await onlyPod(job), "Succeeded");

    await vi.waitFor(() =>
      expect(conditionSummary("done")).toEqual(["SuccessCriteriaMet=True:CompletionsReached", "Complete=True:CompletionsReached"]),
    );
    const status = jobStatus("done");
    expect(status).toMatchObject({ succeeded: 1, ready: 0, terminating: 0 });
    expect(status.active).toBeUndefined();
    expect(status.completionTime).toMatch(/Z$/);
    for (const condition of objectsAt(status, "conditions")) {
      expect(condition).toEqual({
        type: condition.type,
        status: "True",
        reason: "CompletionsReached",
        message: "Reached expected number of succeeded pods",
        lastProbeTime: expect.stringMatching(/Z$/),
        lastTransitionTime: expect.stringMatching(/Z$/),
      });
    }
    expect(eventReasons("done")).toContain("Completed: Job completed");
    expect(podsOf(job)).toHaveLength(1);
  });
});

describe("JobController failure", () => {
  it("with backoffLimit 0 fails on the first failed pod: FailureTarget then Failed, no replacement", async () => {
    const job = createJob("once", { backoffLimit: 0 });
    setPhase(await onlyPod(job), "Failed");

    await vi.waitFor(() =>
      expect(conditionSummary("once")).toEqual(["FailureTarget=True:BackoffLimitExceeded", "Failed=True:BackoffLimitExceeded"]),
    );
    const status = jobStatus("once");
    expect(status.failed).toBe(1);
    expect(status.completionTime).toBeUndefined();
    expect(objectsAt(status, "conditions")[1]?.message).toBe("Job has reached the specified backoff limit");
    expect(eventReasons("once")).toContain("BackoffLimitExceeded: Job has reached the specified backoff limit");
    expect(podsOf(job)).toHaveLength(1);
  });

  it("with backoffLimit 1 replaces the first failed pod and fails after the second", async () => {
    const job = createJob("twice", { backoffLimit: 1 });
    const first = await onlyPod(job);
    setPhase(first, "Failed");

    const second = await vi.waitFor(() => {
      const replacement = podsOf(job).find((pod) => pod.metadata.name !== first.metadata.name);
      expect(replacement).toBeDefined();
      return replacement as K8sObject;
    });
    await vi.waitFor(() => expect(jobStatus("twice")).toMatchObject({ failed: 1, active: 1 }));
    expect(conditionSummary("twice")).toEqual([]);

    setPhase(second, "Failed");
    await vi.waitFor(() => expect(conditionSummary("twice")).toContain("Failed=True:BackoffLimitExceeded"));
    expect(jobStatus("twice").failed).toBe(2);
    expect(podsOf(job)).toHaveLength(2);
  });

  it("counts a pod removed before it finished as failed and replaces it", async () => {
    const job = createJob("vanish");
    const first = await onlyPod(job);
    store.remove("pods", "default", first.metadata.name ?? "");

    await vi.waitFor(() => {
      expect(jobStatus("vanish")).toMatchObject({ failed: 1, active: 1 });
      expect(podsOf(job).map((pod) => pod.metadata.name)).not.toContain(first.metadata.name);
    });
  });

  it("counts a running pod that someone deletes gracefully as failed and replaces it while it terminates", async () => {
    const job = createJob("evicted");
    const first = await onlyPod(job);
    store.mutate("pods", "default", first.metadata.name ?? "", (pod) => {
      pod.spec = { ...objectAt(pod, "spec"), nodeName: "node-1" };
    });
    setPhase(first, "Running");
    deletePod(store, "default", first.metadata.name ?? "");

    await vi.waitFor(() => expect(jobStatus("evicted")).toMatchObject({ failed: 1, active: 1, terminating: 1 }));
    expect(podsOf(job)).toHaveLength(2);
  });

  it("kills the active pod when activeDeadlineSeconds passes, and writes Failed only once the pod is gone", async () => {
    // startTime has whole seconds, so a 1 s deadline can end within milliseconds of the pod's creation (and an
    // unbound pod is removed at once): 2 s leaves the pod at least a second to be seen.
    const job = createJob("slow", { activeDeadlineSeconds: 2 });
    const pod = await onlyPod(job);
    store.mutate("pods", "default", pod.metadata.name ?? "", (current) => {
      current.spec = { ...objectAt(current, "spec"), nodeName: "node-1" };
    });
    setPhase(pod, "Running");

    const marked = await vi.waitFor(
      () => {
        const current = store.get("pods", "default", pod.metadata.name ?? "");
        expect(current?.metadata.deletionTimestamp).toBeDefined();
        return current as K8sObject;
      },
      { timeout: 5000 },
    );
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(30);
    await vi.waitFor(() => expect(jobStatus("slow")).toMatchObject({ terminating: 1, failed: 1 }));
    expect(conditionSummary("slow")).toEqual(["FailureTarget=True:DeadlineExceeded"]);

    // The kubelet finishes killing it and removes it.
    store.remove("pods", "default", pod.metadata.name ?? "");
    await vi.waitFor(() =>
      expect(conditionSummary("slow")).toEqual(["FailureTarget=True:DeadlineExceeded", "Failed=True:DeadlineExceeded"]),
    );
    expect(objectsAt(jobStatus("slow"), "conditions")[1]?.message).toBe("Job was active longer than specified deadline");
    expect(jobStatus("slow")).toMatchObject({ failed: 1, terminating: 0 });
    expect(eventReasons("slow")).toContain("DeadlineExceeded: Job was active longer than specified deadline");
    expect(podsOf(job)).toHaveLength(0);
  });
});

describe("JobController suspend", () => {
  it("creates no pod while suspended and starts one on resume", async () => {
    const job = createJob("paused", { suspend: true });
    await vi.waitFor(() => expect(conditionSummary("paused")).toEqual(["Suspended=True:JobSuspended"]));
    expect(podsOf(job)).toHaveLength(0);
    expect(jobStatus("paused").startTime).toBeUndefined();

    store.mutate("jobs", "default", "paused", (current) => {
      current.spec = { ...objectAt(current, "spec"), suspend: false };
    });
    await onlyPod(job);
    await vi.waitFor(() => expect(conditionSummary("paused")).toEqual(["Suspended=False:JobResumed"]));
    expect(jobStatus("paused").startTime).toBeDefined();
    expect(eventReasons("paused")).toEqual(expect.arrayContaining(["Suspended: Job suspended", "Resumed: Job resumed"]));
  });

  it("deletes the running pod on suspension without counting it as failed", async () => {
    const job = createJob("interrupted");
    await onlyPod(job);
    store.mutate("jobs", "default", "interrupted", (current) => {
      current.spec = { ...objectAt(current, "spec"), suspend: true };
    });
    await vi.waitFor(() => expect(podsOf(job)).toHaveLength(0));
    await vi.waitFor(() => expect(conditionSummary("interrupted")).toEqual(["Suspended=True:JobSuspended"]));
    expect(jobStatus("interrupted").failed).toBeUndefined();
  });
});
