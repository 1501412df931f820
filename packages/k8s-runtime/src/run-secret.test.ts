import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { MAX_SECRET_DATA_BYTES, buildRunSecret, ownerReferencePatch, ownerReferenceTo, runSecretEnv } from "./run-secret.ts";

describe("buildRunSecret", () => {
  it("builds an immutable Opaque Secret with base64 data", () => {
    const secret = buildRunSecret({
      name: "pc-a-b-123-env",
      namespace: "agents",
      labels: { "app.kubernetes.io/managed-by": "paperclip" },
      values: { PAPERCLIP_API_KEY: "jwt.token.value", GREETING: "grüß dich\n" },
    });
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "pc-a-b-123-env", namespace: "agents", labels: { "app.kubernetes.io/managed-by": "paperclip" } },
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
    const base = { name: "s", namespace: "n", labels: {} };
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
    expect(ownerReferencePatch(job)).toEqual({ metadata: { ownerReferences: [ownerReferenceTo(job)] } });
  });

  it("refuses a Job that has not been created yet", () => {
    expect(() => ownerReferenceTo({ metadata: { name: "pc-a-b-123" } })).toThrow(/no name or uid/);
  });
});
