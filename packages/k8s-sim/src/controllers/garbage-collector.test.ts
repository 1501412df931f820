import type { V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "../testing/clients.ts";
import { eventually, shellJob, startSimWithClients } from "../testing/clients.ts";

let sim: SimClients;
const namespace = "gc";
beforeAll(async () => {
  sim = await startSimWithClients({ acceptAnyImage: true });
  await sim.core.createNamespace({ body: { metadata: { name: namespace } } });
});
afterAll(async () => {
  await sim.cluster.stop();
});

/** A suspended Job (no pods) owning one Secret, as the runtime wires a run's credentials. */
async function jobWithSecret(name: string): Promise<V1Job> {
  const body = shellJob(name, "true");
  const job = await sim.batch.createNamespacedJob({ namespace, body: { ...body, spec: { ...body.spec, suspend: true } } });
  await sim.core.createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: `${name}-env`,
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name, uid: job.metadata?.uid ?? "", blockOwnerDeletion: true }],
      },
      stringData: { TOKEN: "x" },
    },
  });
  return job;
}

const secretOf = (name: string) => sim.cluster.store.get("secrets", namespace, `${name}-env`);
const jobOf = (name: string) => sim.cluster.store.get("jobs", namespace, name);

describe("garbage collector", () => {
  it("Background: the Job goes at once, then its Secret", async () => {
    await jobWithSecret("bg");
    await sim.batch.deleteNamespacedJob({ namespace, name: "bg", propagationPolicy: "Background" });
    expect(jobOf("bg")).toBeUndefined();
    await eventually(() => (secretOf("bg") === undefined ? true : undefined), 5000, "the owned secret to go");
  });

  it("Foreground: the Job waits with a finalizer until its Secret is gone", async () => {
    await jobWithSecret("fg");
    const seen: string[] = [];
    const unsubscribeJobs = sim.cluster.store.subscribe("jobs", (e) => {
      if (e.type === "DELETED") seen.push("job deleted");
      else if (e.object.metadata.deletionTimestamp && e.object.metadata.finalizers?.includes("foregroundDeletion")) seen.push("job marked");
    });
    const unsubscribeSecrets = sim.cluster.store.subscribe("secrets", (e) => e.type === "DELETED" && seen.push("secret deleted"));
    await sim.batch.deleteNamespacedJob({ namespace, name: "fg", propagationPolicy: "Foreground" });
    await eventually(() => (jobOf("fg") === undefined ? true : undefined), 5000, "the job to go");
    unsubscribeJobs();
    unsubscribeSecrets();
    expect([...new Set(seen)]).toEqual(["job marked", "secret deleted", "job deleted"]);
  });

  it("Orphan: the Secret stays, without its owner reference", async () => {
    await jobWithSecret("orphan");
    await sim.batch.deleteNamespacedJob({ namespace, name: "orphan", propagationPolicy: "Orphan" });
    await eventually(() => (jobOf("orphan") === undefined ? true : undefined), 5000, "the job to go");
    const secret = secretOf("orphan");
    expect(secret?.metadata.name).toBe("orphan-env");
    expect(secret?.metadata.ownerReferences).toBeUndefined();
  });

  it("a DELETE of a Job without a policy orphans (batch/v1's default) and warns", async () => {
    await jobWithSecret("default-policy");
    const response = await fetch(`${sim.cluster.url}/apis/batch/v1/namespaces/${namespace}/jobs/default-policy`, { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(response.headers.get("warning")).toContain("child pods are preserved by default when jobs are deleted");
    await eventually(() => (jobOf("default-policy") === undefined ? true : undefined), 5000, "the job to go");
    expect(secretOf("default-policy")?.metadata.ownerReferences).toBeUndefined();
  });

  it("collects a dependent whose owner uid does not exist", async () => {
    await sim.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "dangling", ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "ghost", uid: "00000000-0000-0000-0000-000000000000" }] } },
    });
    await eventually(() => (sim.cluster.store.get("configmaps", namespace, "dangling") === undefined ? true : undefined), 5000, "the dangling dependent to go");
  });

  it("deleting a namespace removes everything in it, then the namespace", async () => {
    await sim.core.createNamespace({ body: { metadata: { name: "doomed" } } });
    await sim.core.createNamespacedConfigMap({ namespace: "doomed", body: { metadata: { name: "c" } } });
    await sim.batch.createNamespacedJob({ namespace: "doomed", body: shellJob("j", "true") });
    const response = await sim.core.deleteNamespace({ name: "doomed" });
    expect(response).toMatchObject({ status: { phase: "Terminating" } });
    await eventually(() => (sim.cluster.store.get("namespaces", undefined, "doomed") === undefined ? true : undefined), 10_000, "the namespace to go");
    for (const resource of ["configmaps", "jobs", "pods"]) expect(sim.cluster.store.list(resource, { namespace: "doomed" }).items).toEqual([]);
  });
});
