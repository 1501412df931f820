// client-node's own deserializer, the authority on what a model built from JSON looks like.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { describe, expect, it } from "vitest";
import { modelFromJson } from "./json-models.ts";

const UID = "a5743de2-9c73-4144-8846-9e6827b10891";
const metadata = {
  name: "pc-e219882b-2b852194-6aa4fbbbb91b-bjdbm",
  generateName: "pc-e219882b-2b852194-6aa4fbbbb91b-",
  namespace: "paperclip",
  labels: { "app.kubernetes.io/managed-by": "paperclip", "job-name": "pc-e219882b-2b852194-6aa4fbbbb91b" },
  annotations: { "paperclip.io/run-directory": "/paperclip/k8s-runs/company-1/agent/run" },
  ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "pc-e219882b-2b852194-6aa4fbbbb91b", uid: UID, controller: true, blockOwnerDeletion: true }],
  uid: "da90b98c-6bab-4805-9508-769255feb4ab",
  creationTimestamp: "2026-12-08T02:01:50Z",
  resourceVersion: "127",
  deletionTimestamp: "2026-12-08T02:01:52Z",
  deletionGracePeriodSeconds: 2,
  finalizers: ["batch.kubernetes.io/job-tracking"],
  managedFields: [{ manager: "kube-controller-manager", operation: "Update", apiVersion: "v1", time: "2026-12-08T02:01:50Z", fieldsType: "FieldsV1", fieldsV1: { "f:status": {} } }],
};

/** A pod as kube-apiserver sends it in a watch event: a terminated container, a restarted one, every kind of date. */
function podJson(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: {
      restartPolicy: "Never",
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
      volumes: [{ name: "paperclip-shared", persistentVolumeClaim: { claimName: "paperclip-data" } }, { name: "tmp", emptyDir: {} }],
      containers: [
        {
          name: "claude",
          image: "registry.example.test/paperclip/claude:1",
          command: ["sh", "-c", "exit 0"],
          env: [{ name: "PAPERCLIP_API_KEY", valueFrom: { secretKeyRef: { name: "run", key: "PAPERCLIP_API_KEY" } } }],
          resources: { limits: { cpu: "2", memory: "4Gi" }, requests: { cpu: "500m" } },
          ports: [{ containerPort: 8080 }],
        },
      ],
      nodeName: "node-1",
    },
    status: {
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory.",
      qosClass: "Burstable",
      conditions: [
        { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: "2026-12-08T02:01:50Z" },
        { type: "DisruptionTarget", status: "True", reason: "TerminationByKubelet", lastTransitionTime: "2026-12-08T02:01:55Z" },
      ],
      hostIP: "10.0.0.4",
      podIPs: [{ ip: "10.1.0.7" }],
      startTime: "2026-12-08T02:01:50Z",
      containerStatuses: [
        {
          name: "claude",
          ready: false,
          restartCount: 1,
          image: "registry.example.test/paperclip/claude:1",
          imageID: "sha256:0f",
          containerID: "containerd://1",
          started: false,
          state: { terminated: { exitCode: 137, reason: "OOMKilled", startedAt: "2026-12-08T02:01:51Z", finishedAt: "2026-12-08T02:01:55Z", containerID: "containerd://1" } },
          lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: "2026-12-08T02:01:50Z", finishedAt: "2026-12-08T02:01:50.5Z" } },
        },
      ],
      initContainerStatuses: [{ name: "init", ready: true, restartCount: 0, image: "busybox", imageID: "", state: { running: { startedAt: "2026-12-08T02:01:50Z" } } }],
    },
  };
}

function jobJson(): Record<string, unknown> {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { ...metadata, name: "pc-e219882b-2b852194-6aa4fbbbb91b", uid: UID },
    spec: { backoffLimit: 0, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 300, template: { metadata: { labels: { a: "b" } }, spec: { restartPolicy: "Never", containers: [{ name: "claude", image: "x" }] } } },
    status: {
      startTime: "2026-12-08T02:01:50Z",
      completionTime: "2026-12-08T02:02:50Z",
      failed: 1,
      terminating: 0,
      uncountedTerminatedPods: { failed: ["da90b98c"] },
      conditions: [
        { type: "FailureTarget", status: "True", reason: "DeadlineExceeded", lastProbeTime: "2026-12-08T02:02:49Z", lastTransitionTime: "2026-12-08T02:02:49Z" },
        { type: "Failed", status: "True", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline", lastTransitionTime: "2026-12-08T02:02:50Z" },
      ],
    },
  };
}

describe("modelFromJson", () => {
  it("builds the V1Pod client-node's ObjectSerializer builds: every date a Date, everything else as sent", () => {
    const pod = modelFromJson(podJson(), "V1Pod");
    expect(pod).toEqual(ObjectSerializer.deserialize(podJson(), "V1Pod", ""));
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt).toEqual(new Date("2026-12-08T02:01:55Z"));
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated?.finishedAt).toEqual(new Date("2026-12-08T02:01:50.5Z"));
    expect(pod.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(pod.metadata?.managedFields?.[0]?.time).toBeInstanceOf(Date);
    expect(pod.status?.conditions?.[0]?.lastProbeTime).toBeNull();
  });

  it("builds the V1Job client-node's ObjectSerializer builds", () => {
    const job = modelFromJson(jobJson(), "V1Job");
    expect(job).toEqual(ObjectSerializer.deserialize(jobJson(), "V1Job", ""));
    expect(job.status?.conditions?.map((condition) => condition.lastTransitionTime)).toEqual([new Date("2026-12-08T02:02:49Z"), new Date("2026-12-08T02:02:50Z")]);
    expect(job.status?.completionTime).toBeInstanceOf(Date);
  });

  it("keeps fields a newer API server sends that client-node does not know", () => {
    const json = podJson();
    Reflect.set(json, "status", { phase: "Running", futureField: { since: "2026-12-08T02:01:50Z" } });
    const pod = modelFromJson(json, "V1Pod");
    expect(pod.status?.phase).toBe("Running");
    expect(Reflect.get(pod.status ?? {}, "futureField")).toEqual({ since: "2026-12-08T02:01:50Z" });
  });
});
