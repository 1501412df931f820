import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "../testing/clients.ts";
import { apiError, shellJob, startSimWithClients } from "../testing/clients.ts";

let sim: SimClients;
beforeAll(async () => {
  sim = await startSimWithClients();
});
afterAll(async () => {
  await sim.cluster.stop();
});

let namespaceCounter = 0;
async function freshNamespace(): Promise<string> {
  const name = `crud-${++namespaceCounter}`;
  await sim.core.createNamespace({ body: { metadata: { name } } });
  return name;
}

describe("create, get, list", () => {
  it("fills uid, creationTimestamp, resourceVersion, generateName and answers 201", async () => {
    const namespace = await freshNamespace();
    const created = await sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { generateName: "cfg-" }, data: { a: "1" } } });
    expect(created.metadata?.name).toMatch(/^cfg-[a-z0-9]{5}$/);
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    const read = await sim.core.readNamespacedConfigMap({ namespace, name: created.metadata?.name ?? "" });
    expect(read.data).toEqual({ a: "1" });
    const list = await sim.core.listNamespacedConfigMap({ namespace });
    // Every namespace also holds the root-CA publisher's ConfigMap, as on a real cluster.
    expect(list.items.map((i) => i.metadata?.name)).toEqual([created.metadata?.name, "kube-root-ca.crt"]);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata?.resourceVersion));
  });

  it("defaults a Job and generates its selector and template labels as the API server does", async () => {
    const namespace = await freshNamespace();
    const job = await sim.batch.createNamespacedJob({ namespace, body: shellJob("defaults", "true", { labels: { app: "x" } }) });
    const uid = job.metadata?.uid ?? "";
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.completions).toBe(1);
    expect(job.spec?.parallelism).toBe(1);
    expect(job.spec?.selector?.matchLabels).toEqual({ "batch.kubernetes.io/controller-uid": uid });
    expect(job.spec?.template.metadata?.labels).toEqual({
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "defaults",
      "controller-uid": uid,
      "job-name": "defaults",
    });
    const noLimit = shellJob("default-backoff", "true");
    const { backoffLimit: _omitted, ...spec } = noLimit.spec;
    const defaulted = await sim.batch.createNamespacedJob({ namespace, body: { ...noLimit, spec } });
    expect(defaulted.spec?.backoffLimit).toBe(6);
  });

  it("paginates with limit and continue", async () => {
    const namespace = await freshNamespace();
    for (const name of ["a", "b", "c", "d", "e"]) await sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
    const first = await sim.core.listNamespacedConfigMap({ namespace, limit: 2 });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(["a", "b"]);
    expect(first.metadata?.remainingItemCount).toBe(4);
    const second = await sim.core.listNamespacedConfigMap({ namespace, limit: 2, _continue: first.metadata?._continue });
    expect(second.items.map((i) => i.metadata?.name)).toEqual(["c", "d"]);
    const last = await sim.core.listNamespacedConfigMap({ namespace, limit: 2, _continue: second.metadata?._continue });
    expect(last.items.map((i) => i.metadata?.name)).toEqual(["e", "kube-root-ca.crt"]);
    expect(last.metadata?._continue).toBeUndefined();
  });
});

describe("errors as Status objects", () => {
  it("404 NotFound names the resource with its group", async () => {
    const error = await apiError(sim.batch.readNamespacedJob({ namespace: "default", name: "missing" }));
    expect(error.code).toBe(404);
    expect(error.body).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "NotFound",
      message: 'jobs.batch "missing" not found',
      details: { name: "missing", group: "batch", kind: "jobs" },
      code: 404,
    });
  });

  it("409 AlreadyExists", async () => {
    const namespace = await freshNamespace();
    await sim.core.createNamespacedSecret({ namespace, body: { metadata: { name: "s" } } });
    const error = await apiError(sim.core.createNamespacedSecret({ namespace, body: { metadata: { name: "s" } } }));
    expect(error.code).toBe(409);
    expect(error.body).toMatchObject({ reason: "AlreadyExists", message: 'secrets "s" already exists' });
  });

  it("404 for a create in a namespace that does not exist", async () => {
    const error = await apiError(sim.core.createNamespacedConfigMap({ namespace: "nowhere", body: { metadata: { name: "x" } } }));
    expect(error.code).toBe(404);
    expect(error.body.message).toBe('namespaces "nowhere" not found');
  });

  it("422 Invalid for a label value ending in a dash, with the real message and cause", async () => {
    const namespace = await freshNamespace();
    const error = await apiError(sim.batch.createNamespacedJob({ namespace, body: shellJob("bad-label", "true", { labels: { run: "bad-" } }) }));
    expect(error.code).toBe(422);
    expect(error.body.reason).toBe("Invalid");
    expect(error.body.message).toBe(
      `Job.batch "bad-label" is invalid: metadata.labels: Invalid value: "bad-": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
    expect(error.body.details).toMatchObject({
      name: "bad-label",
      group: "batch",
      kind: "Job",
      causes: [{ reason: "FieldValueInvalid", field: "metadata.labels" }],
    });
  });

  it("422 for names, long Job names, restartPolicy, missing image, env names, secret keys", async () => {
    const namespace = await freshNamespace();
    const badName = await apiError(sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "Upper" } } }));
    expect(badName.code).toBe(422);
    expect(String(badName.body.message)).toContain("metadata.name: Invalid value: \"Upper\": a lowercase RFC 1123 subdomain");

    const longName = "j".repeat(64);
    const longJob = await apiError(sim.batch.createNamespacedJob({ namespace, body: shellJob(longName, "true") }));
    expect(longJob.code).toBe(422);
    expect(String(longJob.body.message)).toContain(`spec.template.labels: Invalid value: "${longName}": must be no more than 63 characters`);

    const always = shellJob("always", "true");
    always.spec.template.spec.restartPolicy = "Always";
    const restart = await apiError(sim.batch.createNamespacedJob({ namespace, body: always }));
    expect(restart.body.message).toBe(
      'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );

    const noImage = await apiError(
      sim.core.createNamespacedPod({ namespace, body: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "" , env: [{ name: "1BAD", value: "x" }] }] } } }),
    );
    expect(noImage.code).toBe(422);
    const fields = (noImage.body.details as { causes: { field: string }[] }).causes.map((c) => c.field);
    expect(fields).toEqual(["spec.containers[0].image", "spec.containers[0].env[0].name"]);

    const badKey = await apiError(sim.core.createNamespacedSecret({ namespace, body: { metadata: { name: "k" }, data: { "bad key": "eA==" } } }));
    expect(badKey.code).toBe(422);
    const notBase64 = await apiError(sim.core.createNamespacedSecret({ namespace, body: { metadata: { name: "k" }, data: { key: "%%%" } } }));
    expect(notBase64.code).toBe(400);
  });

  it("409 Conflict on a stale resourceVersion, and updates bump it", async () => {
    const namespace = await freshNamespace();
    const created = await sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "occ" }, data: { v: "1" } } });
    const updated = await sim.core.replaceNamespacedConfigMap({ namespace, name: "occ", body: { ...created, data: { v: "2" } } });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    const stale = await apiError(sim.core.replaceNamespacedConfigMap({ namespace, name: "occ", body: { ...created, data: { v: "3" } } }));
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({
      reason: "Conflict",
      message: 'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it("422 when an update changes an immutable Job field", async () => {
    const namespace = await freshNamespace();
    const job = await sim.batch.createNamespacedJob({ namespace, body: shellJob("immutable", "true") });
    const changed = structuredClone(job);
    const container = changed.spec?.template.spec?.containers[0];
    if (container) container.command = ["sh", "-c", "false"];
    const error = await apiError(sim.batch.replaceNamespacedJob({ namespace, name: "immutable", body: changed }));
    expect(error.code).toBe(422);
    expect(String(error.body.message)).toContain("spec.template: Invalid value");
    expect(String(error.body.message)).toContain("field is immutable");
  });
});

describe("patch", () => {
  it("applies merge, strategic and JSON patches; 415 for server-side apply", async () => {
    const namespace = await freshNamespace();
    await sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "p", labels: { a: "1", b: "2" } }, data: { x: "1" } } });
    const merge = await sim.core.patchNamespacedConfigMap(
      { namespace, name: "p", body: { metadata: { labels: { b: null, c: "3" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(merge.metadata?.labels).toEqual({ a: "1", c: "3" });
    const strategic = await sim.core.patchNamespacedConfigMap(
      { namespace, name: "p", body: { data: { y: "2" } } },
      setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.data).toEqual({ x: "1", y: "2" });
    const json = await sim.core.patchNamespacedConfigMap(
      {
        namespace,
        name: "p",
        body: [
          { op: "test", path: "/data/x", value: "1" },
          { op: "replace", path: "/data/x", value: "9" },
          { op: "add", path: "/metadata/labels/d~1e", value: "4" },
          { op: "remove", path: "/data/y" },
        ],
      },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    expect(json.data).toEqual({ x: "9" });
    expect(json.metadata?.labels).toEqual({ a: "1", c: "3", "d/e": "4" });
    const failedTest = await apiError(
      sim.core.patchNamespacedConfigMap(
        { namespace, name: "p", body: [{ op: "test", path: "/data/x", value: "nope" }] },
        setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
      ),
    );
    expect(failedTest.code).toBe(422);
    const apply = await apiError(
      sim.core.patchNamespacedConfigMap({ namespace, name: "p", body: { data: {} } }, setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply)),
    );
    expect(apply.code).toBe(415);
  });

  it("rejects a patch carrying a stale resourceVersion with 409 and an invalid result with 422", async () => {
    const namespace = await freshNamespace();
    const created = await sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "q" } } });
    await sim.core.patchNamespacedConfigMap({ namespace, name: "q", body: { data: { a: "1" } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    const stale = await apiError(
      sim.core.patchNamespacedConfigMap(
        { namespace, name: "q", body: { metadata: { resourceVersion: created.metadata?.resourceVersion }, data: { a: "2" } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    expect(stale.code).toBe(409);
    const invalid = await apiError(
      sim.core.patchNamespacedConfigMap({ namespace, name: "q", body: { metadata: { labels: { x: "-" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)),
    );
    expect(invalid.code).toBe(422);
  });
});

describe("selectors", () => {
  it("filters lists by every label operator and by supported fields; rejects the rest with 400", async () => {
    const namespace = await freshNamespace();
    const labelled: [string, Record<string, string>][] = [
      ["one", { tier: "web", env: "prod" }],
      ["two", { tier: "db", env: "dev" }],
      ["three", { tier: "web" }],
    ];
    for (const [name, labels] of labelled) await sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels } } });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await sim.core.listNamespacedConfigMap({ namespace, labelSelector, fieldSelector })).items.map((i) => i.metadata?.name).sort();
    expect(await names("tier=web")).toEqual(["one", "three"]);
    expect(await names("tier==web,env=prod")).toEqual(["one"]);
    // kube-root-ca.crt (in every namespace) has no env label.
    expect(await names("env!=prod")).toEqual(["kube-root-ca.crt", "three", "two"]);
    expect(await names("env in (prod, dev)")).toEqual(["one", "two"]);
    expect(await names("env notin (prod)")).toEqual(["kube-root-ca.crt", "three", "two"]);
    expect(await names("env")).toEqual(["one", "two"]);
    expect(await names("!env")).toEqual(["kube-root-ca.crt", "three"]);
    expect(await names(undefined, "metadata.name=two")).toEqual(["two"]);
    expect(await names(undefined, "metadata.name!=two,metadata.namespace=" + namespace)).toEqual(["kube-root-ca.crt", "one", "three"]);
    expect((await apiError(sim.core.listNamespacedConfigMap({ namespace, labelSelector: "env in (" }))).code).toBe(400);
    const unsupported = await apiError(sim.core.listNamespacedConfigMap({ namespace, fieldSelector: "data.x=1" }));
    expect(unsupported.code).toBe(400);
    expect(unsupported.body.message).toBe("field label not supported: data.x");
  });
});

describe("SelfSubjectAccessReview", () => {
  it("allows the admin kubeconfig everything", async () => {
    const { AuthorizationV1Api } = await import("@kubernetes/client-node");
    const authz = sim.kubeConfig.makeApiClient(AuthorizationV1Api);
    const review = await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: "create", resource: "jobs", group: "batch", namespace: "default" } } },
    });
    expect(review.status?.allowed).toBe(true);
  });
});
