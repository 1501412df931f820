import { ApiException, PatchStrategy, setHeaderOptions, type V1Job, type V1Secret } from "@kubernetes/client-node";
import { type SimCluster, startSimCluster } from "paperclip-k8s-sim";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ClusterAccess, clusterAccessFor, forgetClusterAccess, RUNTIME_USER_AGENT } from "./cluster-access.ts";
import { classifyError, describeApiError, retryAfterMs } from "./retry-policy.ts";
import { createdObjectOf } from "./run-object-api.ts";
import { ownerReferencePatch } from "./run-secret.ts";

const NAMESPACE = "default";

let cluster: SimCluster;
let admin: ClusterAccess;
beforeAll(async () => {
  cluster = await startSimCluster({ tls: true });
  admin = clusterAccessFor(JSON.stringify(cluster.kubeconfig));
});
afterAll(async () => {
  forgetClusterAccess();
  await cluster?.stop();
});
afterEach(() => cluster.faults.clear());

/** Client sets for the same TLS cluster authenticated as `user` (a kubeconfig `user` entry). */
function accessAs(user: Record<string, unknown>): ClusterAccess {
  const kubeconfig = { ...cluster.kubeconfig, users: cluster.kubeconfig.users.map(({ name }) => ({ name, user })) };
  return clusterAccessFor(JSON.stringify(kubeconfig));
}

function secret(name: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: NAMESPACE, labels: { "app.kubernetes.io/managed-by": "paperclip" }, annotations: { "paperclip.io/run-id": "run-1" } },
    type: "Opaque",
    immutable: true,
    data: { PAPERCLIP_API_KEY: Buffer.from("run-jwt").toString("base64") },
  };
}

function job(name: string): V1Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: NAMESPACE },
    spec: {
      suspend: true,
      backoffLimit: 0,
      template: { spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "registry.example.test/none:1" }] } },
    },
  };
}

function stored(resource: "secrets" | "jobs", name: string) {
  const object = cluster.store.get(resource, NAMESPACE, name);
  if (!object) return undefined;
  const { uid, resourceVersion } = object.metadata;
  return { metadata: { name, namespace: NAMESPACE, uid, resourceVersion } };
}

async function failureOf(call: () => Promise<unknown>): Promise<ApiException<unknown>> {
  const error = await call().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApiException)) throw new Error(`expected an ApiException, got ${String(error)}`);
  return error;
}

/** All of an ApiException that the request decides: everything but the response's Date (also quoted in the message). */
function comparable(error: ApiException<unknown>) {
  const { date, ...headers } = error.headers;
  return {
    code: error.code,
    body: error.body,
    headers,
    message: date === undefined ? error.message : error.message.replaceAll(date, "<date>"),
    description: describeApiError(error),
    disposition: classifyError(error),
    retryAfterMs: retryAfterMs(error),
  };
}

describe("the run's API calls as plain JSON", () => {
  it("create, patch and delete the run's objects over TLS with the kubeconfig's token, one request each, on one pool", async () => {
    forgetClusterAccess(admin.key);
    const access = clusterAccessFor(JSON.stringify(cluster.kubeconfig));
    cluster.requests.reset();
    const runs = ["run-a", "run-b", "run-c"];
    for (const run of runs) {
      const secretName = `${run}-lock`;
      const jobName = `${run}-job`;
      const createdSecret = await access.runObjects.createSecret(NAMESPACE, secret(secretName));
      expect(createdSecret).toEqual(stored("secrets", secretName));
      const createdJob = await access.runObjects.createJob(NAMESPACE, job(jobName));
      // The Job controller may have written its status since: the same object, perhaps a later version.
      expect(createdJob.metadata).toMatchObject({ name: jobName, namespace: NAMESPACE, uid: stored("jobs", jobName)?.metadata.uid });
      expect(Number(createdJob.metadata.resourceVersion)).toBeLessThanOrEqual(Number(stored("jobs", jobName)?.metadata.resourceVersion));
      expect(cluster.store.get("jobs", NAMESPACE, jobName)?.spec).toMatchObject({ suspend: true, backoffLimit: 0 });

      await access.runObjects.mergePatchSecret(NAMESPACE, secretName, ownerReferencePatch(createdJob, createdSecret.metadata.resourceVersion));
      const patched = cluster.store.get("secrets", NAMESPACE, secretName);
      expect(patched?.metadata.ownerReferences).toEqual([{ apiVersion: "batch/v1", kind: "Job", name: jobName, uid: createdJob.metadata.uid }]);
      expect(patched?.metadata.annotations).toEqual({ "paperclip.io/run-id": "run-1", "paperclip.io/job-uid": createdJob.metadata.uid });

      // The Secret first: the garbage collector deletes it with its owner Job.
      await access.runObjects.deleteSecret(NAMESPACE, secretName, createdSecret.metadata.uid);
      expect(cluster.store.get("secrets", NAMESPACE, secretName)).toBeUndefined();
      await access.runObjects.deleteJob(NAMESPACE, jobName);
      expect(cluster.store.get("jobs", NAMESPACE, jobName)).toBeUndefined();
    }

    const requests = cluster.requests.snapshot();
    // The token was sent: the HTTPS listener takes a request without one as anonymous, which may not create Secrets.
    expect(requests.byUserAgent).toEqual({ [RUNTIME_USER_AGENT]: { secrets: { create: 3, patch: 3, delete: 3 }, jobs: { create: 3, delete: 3 } } });
    // undici would close the connection after each DELETE with a body (the Secret's uid precondition): one per run.
    expect(requests.connectionsOpened).toBeLessThanOrEqual(2);
  });

  it("authenticate through the kubeconfig's exec credential plugin, as client-node applies it", async () => {
    const credential = JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "sim-token" } });
    const access = accessAs({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", `printf '%s' '${credential}'`] } });
    const created = await access.runObjects.createSecret(NAMESPACE, secret("exec-authenticated"));
    expect(created).toEqual(stored("secrets", "exec-authenticated"));
    await access.runObjects.deleteSecret(NAMESPACE, "exec-authenticated", created.metadata.uid);
    expect(cluster.store.get("secrets", NAMESPACE, "exec-authenticated")).toBeUndefined();
  });

  it("a refused call throws the ApiException the generated client throws for the same request", async () => {
    const taken = await admin.runObjects.createSecret(NAMESPACE, secret("taken"));
    const serviceAccount = accessAs({ token: cluster.serviceAccountToken(NAMESPACE, "default") });
    const stranger = accessAs({ token: "not-a-token-of-this-cluster" });
    const cases: { name: string; json: () => Promise<unknown>; generated: () => Promise<unknown>; status: number; before?: () => void }[] = [
      {
        name: "404 NotFound",
        status: 404,
        json: () => admin.runObjects.deleteJob(NAMESPACE, "no-such-job"),
        generated: () => admin.batch.deleteNamespacedJob({ namespace: NAMESPACE, name: "no-such-job", propagationPolicy: "Background" }),
      },
      {
        name: "409 AlreadyExists",
        status: 409,
        json: () => admin.runObjects.createSecret(NAMESPACE, secret("taken")),
        generated: () => admin.core.createNamespacedSecret({ namespace: NAMESPACE, body: secret("taken") }),
      },
      {
        name: "409 Conflict on a uid precondition",
        status: 409,
        json: () => admin.runObjects.deleteSecret(NAMESPACE, "taken", "another-uid"),
        generated: () => admin.core.deleteNamespacedSecret({ namespace: NAMESPACE, name: "taken", body: { preconditions: { uid: "another-uid" } } }),
      },
      {
        name: "409 Conflict on a stale resourceVersion",
        status: 409,
        json: () => admin.runObjects.mergePatchSecret(NAMESPACE, "taken", { metadata: { resourceVersion: "1", annotations: { a: "b" } } }),
        generated: () =>
          admin.core.patchNamespacedSecret(
            { namespace: NAMESPACE, name: "taken", body: { metadata: { resourceVersion: "1", annotations: { a: "b" } } } },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          ),
      },
      {
        name: "422 Invalid",
        status: 422,
        json: () => admin.runObjects.createJob(NAMESPACE, job("Not_A_Valid_Name")),
        generated: () => admin.batch.createNamespacedJob({ namespace: NAMESPACE, body: job("Not_A_Valid_Name") }),
      },
      {
        name: "403 Forbidden by RBAC",
        status: 403,
        json: () => serviceAccount.runObjects.createSecret(NAMESPACE, secret("not-allowed")),
        generated: () => serviceAccount.core.createNamespacedSecret({ namespace: NAMESPACE, body: secret("not-allowed") }),
      },
      {
        name: "401 Unauthorized",
        status: 401,
        json: () => stranger.runObjects.createJob(NAMESPACE, job("unauthorized")),
        generated: () => stranger.batch.createNamespacedJob({ namespace: NAMESPACE, body: job("unauthorized") }),
      },
      {
        name: "429 TooManyRequests with Retry-After",
        status: 429,
        before: () =>
          cluster.faults.failRequests({ verb: "create", resource: "secrets", response: { kind: "status", status: 429, retryAfterSeconds: 7 }, count: 1 }),
        json: () => admin.runObjects.createSecret(NAMESPACE, secret("rate-limited")),
        generated: () => admin.core.createNamespacedSecret({ namespace: NAMESPACE, body: secret("rate-limited") }),
      },
    ];
    for (const { name, status, before, json, generated } of cases) {
      before?.();
      const fromJson = await failureOf(json);
      before?.();
      const fromGenerated = await failureOf(generated);
      expect(fromJson.code, name).toBe(status);
      expect(comparable(fromJson), name).toEqual(comparable(fromGenerated));
      if (status === 429) expect(retryAfterMs(fromJson)).toBe(7_000);
    }
    expect(cluster.store.get("secrets", NAMESPACE, "taken")?.metadata.uid).toBe(taken.metadata.uid);
    expect(cluster.store.get("secrets", NAMESPACE, "rate-limited")).toBeUndefined();
  });
});

describe("createdObjectOf", () => {
  it("reads a created object's identity from parsed JSON or a client-node model, and names a field the answer lacks", () => {
    const metadata = { name: "j", namespace: "ns", uid: "u-1", resourceVersion: "7" };
    expect(createdObjectOf({ kind: "Job", metadata: { ...metadata, creationTimestamp: "2026-01-01T00:00:00Z" }, spec: {} }, "create Job ns/j")).toEqual({ metadata });
    expect(createdObjectOf({ metadata: { ...metadata, creationTimestamp: new Date() } }, "read Job ns/j")).toEqual({ metadata });
    expect(() => createdObjectOf({ metadata: { ...metadata, uid: 7 } }, "create Job ns/j")).toThrow("create Job ns/j: the API server's answer has no metadata.uid");
    expect(() => createdObjectOf("Created", "create Secret ns/s")).toThrow("create Secret ns/s: the API server's answer has no metadata.name");
  });
});
