import type { V1Job, V1Secret } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { judgeRunSecret } from "./agent-lock.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const GRACE = 120_000;

function secret(ageMs: number, ownerUid?: string): V1Secret {
  return {
    metadata: {
      name: "pc-agent-123-run",
      creationTimestamp: new Date(NOW - ageMs),
      annotations: { "paperclip.io/job-name": "pc-agent-run-1" },
      ...(ownerUid ? { ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "pc-agent-run-1", uid: ownerUid }] } : {}),
    },
  };
}

function job(status: V1Job["status"], extra: Partial<NonNullable<V1Job["metadata"]>> = {}): V1Job {
  return { metadata: { name: "pc-agent-run-1", uid: "job-uid", ...extra }, status };
}

describe("judgeRunSecret", () => {
  it("a Secret whose Job runs is held, whether or not its owner patch happened", () => {
    expect(judgeRunSecret(secret(10 * GRACE, "job-uid"), job({ active: 1 }), NOW, GRACE)).toEqual({ stale: false, why: "its Job pc-agent-run-1 is running" });
    expect(judgeRunSecret(secret(10 * GRACE), job({ active: 1 }), NOW, GRACE).stale).toBe(false);
  });

  it("a Secret whose Job finished, is being deleted, is gone or was replaced by another uid is stale", () => {
    const finished = job({ conditions: [{ type: "Failed", status: "True" }] });
    expect(judgeRunSecret(secret(0, "job-uid"), finished, NOW, GRACE)).toEqual({ stale: true, why: "its Job pc-agent-run-1 has finished" });
    expect(judgeRunSecret(secret(0, "job-uid"), job({ active: 1 }, { deletionTimestamp: new Date(NOW) }), NOW, GRACE).stale).toBe(true);
    expect(judgeRunSecret(secret(0, "job-uid"), null, NOW, GRACE)).toEqual({ stale: true, why: "its Job pc-agent-run-1 is gone" });
    expect(judgeRunSecret(secret(0, "old-uid"), job({ active: 1 }), NOW, GRACE).stale).toBe(true);
    // Its Job deleted with orphan propagation: the owner is stripped, the uid annotation of the owner patch stays.
    const orphaned: V1Secret = { metadata: { ...secret(0).metadata, annotations: { "paperclip.io/job-name": "pc-agent-run-1", "paperclip.io/job-uid": "job-uid" } } };
    expect(judgeRunSecret(orphaned, null, NOW, GRACE)).toEqual({ stale: true, why: "its Job pc-agent-run-1 is gone" });
  });

  it("an ownerless Secret without its Job is held for the grace period (the Job may be on its way), stale after", () => {
    expect(judgeRunSecret(secret(GRACE - 1), null, NOW, GRACE)).toEqual({ stale: false, why: "its Job pc-agent-run-1 is being created" });
    expect(judgeRunSecret(secret(GRACE), null, NOW, GRACE).stale).toBe(true);
    expect(judgeRunSecret({ metadata: { name: "no-timestamp" } }, null, NOW, GRACE).stale).toBe(true);
  });
});
