import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { MAX_SECRET_DATA_BYTES, buildRunSecret, holderJobOf, ownerReferencePatch, ownerReferenceTo, runSecretEnv } from "./run-secret.ts";

describe("buildRunSecret", () => {
  it("builds an immutable Opaque Secret with base64 data", () => {
    const secret = buildRunSecret({
      name: "pc-a-123-run",
      namespace: "agents",
      labels: { "app.kubernetes.io/managed-by": "paperclip" },
      holder: { agentId: "agent-a", runId: "run-b", jobName: "pc-a-b-123" },
      values: { PAPERCLIP_API_KEY: "jwt.token.value", GREETING: "grüß dich\n" },
    });
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "pc-a-123-run",
        namespace: "agents",
        labels: { "app.kubernetes.io/managed-by": "paperclip" },
        annotations: { "paperclip.io/agent-id": "agent-a", "paperclip.io/run-id": "run-b", "paperclip.io/job-name": "pc-a-b-123" },
      },
      type: "Opaque",
      immutable: true,
      data: {
        PAPERCLIP_API_KEY: Buffer.from("jwt.token.value").toString("base64"),
        GREETING: Buffer.from("grüß dich\n", "utf8").toString("base64"),
      },
    });
    expect(Buffer.from(secret.data?.GREETING ?? "", "base64").toString("utf8")).toBe("grüß dich\n");
  });

  it("refuses keys that are not env var names, and oversize data", () => {
    const base = { name: "s", namespace: "n", labels: {}, holder: { agentId: "a", runId: "r", jobName: "j" } };
    expect(() => buildRunSecret({ ...base, values: { "BAD-KEY": "x" } })).toThrow(/"BAD-KEY" is not a valid env var name/);
    expect(() => buildRunSecret({ ...base, values: { BIG: "x".repeat(MAX_SECRET_DATA_BYTES + 1) } })).toThrow(/more than/);
  });

  it("references each key with secretKeyRef", () => {
    expect(runSecretEnv("run-env", ["A", "B"])).toEqual([
      { name: "A", valueFrom: { secretKeyRef: { name: "run-env", key: "A" } } },
      { name: "B", valueFrom: { secretKeyRef: { name: "run-env", key: "B" } } },
    ]);
  });
});

describe("ownerReferenceTo", () => {
  const job: V1Job = { metadata: { name: "pc-a-b-123", namespace: "agents", uid: "9d1c-uid" } };

  it("points at the created Job", () => {
    expect(ownerReferenceTo(job)).toEqual({ apiVersion: "batch/v1", kind: "Job", name: "pc-a-b-123", uid: "9d1c-uid" });
    const annotations = { "paperclip.io/job-uid": "9d1c-uid" };
    expect(ownerReferencePatch(job)).toEqual({ metadata: { ownerReferences: [ownerReferenceTo(job)], annotations } });
    expect(ownerReferencePatch(job, "42")).toEqual({ metadata: { ownerReferences: [ownerReferenceTo(job)], annotations, resourceVersion: "42" } });
  });

  it("refuses a Job that has not been created yet", () => {
    expect(() => ownerReferenceTo({ metadata: { name: "pc-a-b-123" } })).toThrow(/no name or uid/);
  });
});

describe("holderJobOf", () => {
  it("reads the holder annotation, else the owner's name, else nothing", () => {
    const owner = { apiVersion: "batch/v1", kind: "Job", name: "owner-job", uid: "u" };
    expect(holderJobOf({ metadata: { annotations: { "paperclip.io/job-name": "held-by" }, ownerReferences: [owner] } })).toBe("held-by");
    expect(holderJobOf({ metadata: { ownerReferences: [owner] } })).toBe("owner-job");
    expect(holderJobOf({ metadata: { ownerReferences: [{ ...owner, kind: "ReplicaSet", apiVersion: "apps/v1" }] } })).toBeNull();
    expect(holderJobOf({ metadata: {} })).toBeNull();
  });
});
