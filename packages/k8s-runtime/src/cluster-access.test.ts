import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Job } from "@kubernetes/client-node";
import { type SimCluster, startSimCluster } from "paperclip-k8s-sim";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ClusterAccessError,
  abortableCall,
  clusterAccessFor,
  forgetClusterAccess,
  isInlineKubeconfig,
  RUNTIME_USER_AGENT,
} from "./cluster-access.ts";
import { KubernetesApiError, withRetry } from "./retry-policy.ts";

const dir = mkdtempSync(join(tmpdir(), "cluster-access-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfigYaml(server: string, namespace?: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: sim",
    "  cluster:",
    `    server: ${server}`,
    "users:",
    "- name: me",
    "  user:",
    "    token: abc",
    "contexts:",
    "- name: sim",
    "  context:",
    "    cluster: sim",
    "    user: me",
    ...(namespace ? [`    namespace: ${namespace}`] : []),
    "current-context: sim",
    "",
  ].join("\n");
}

function writeKubeconfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function loadError(setting: string | undefined): ClusterAccessError {
  try {
    clusterAccessFor(setting);
  } catch (error) {
    if (error instanceof ClusterAccessError) return error;
    throw error;
  }
  throw new Error("expected clusterAccessFor to fail");
}

beforeEach(() => {
  forgetClusterAccess();
  vi.stubEnv("KUBERNETES_SERVICE_HOST", "");
  vi.stubEnv("KUBECONFIG", "");
});
afterEach(() => vi.unstubAllEnvs());

describe("isInlineKubeconfig", () => {
  it("tells kubeconfig text from a path", () => {
    expect(isInlineKubeconfig(kubeconfigYaml("https://x"))).toBe(true);
    expect(isInlineKubeconfig('  {"apiVersion":"v1","clusters":[]}')).toBe(true);
    expect(isInlineKubeconfig("/etc/paperclip/kubeconfig")).toBe(false);
    expect(isInlineKubeconfig("~/.kube/config")).toBe(false);
    expect(isInlineKubeconfig("relative/kube config.yaml")).toBe(false);
  });
});

describe("clusterAccessFor", () => {
  it("loads a kubeconfig file and reuses one client set per file", () => {
    const path = writeKubeconfig("file.yaml", kubeconfigYaml("https://file.example:6443", "agents"));
    const access = clusterAccessFor(path);
    expect(access).toMatchObject({ source: "file", currentNamespace: "agents", server: "https://file.example:6443" });
    expect(access.key).toBe(`file:${path}`);
    expect(clusterAccessFor(`  ${path}  `)).toBe(access);
    expect(access.core).toBeDefined();
    expect(access.batch).toBeDefined();
    expect(access.authorization).toBeDefined();
    expect(access.watch.config).toBe(access.kubeConfig);
  });

  it("loads inline YAML and JSON text, keyed by a hash of the text", () => {
    const yaml = kubeconfigYaml("https://inline.example");
    const fromYaml = clusterAccessFor(yaml);
    expect(fromYaml).toMatchObject({ source: "inline", currentNamespace: "default", server: "https://inline.example" });
    expect(fromYaml.key).toMatch(/^inline:[0-9a-f]{16}$/);
    expect(fromYaml.key).not.toContain("abc");
    expect(clusterAccessFor(yaml)).toBe(fromYaml);

    const json = JSON.stringify({
      apiVersion: "v1",
      clusters: [{ name: "c", cluster: { server: "https://json.example" } }],
      users: [{ name: "u", user: {} }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u", namespace: "ns1" } }],
      "current-context": "x",
    });
    const fromJson = clusterAccessFor(json);
    expect(fromJson).toMatchObject({ source: "inline", currentNamespace: "ns1", server: "https://json.example" });
    expect(fromJson).not.toBe(fromYaml);
  });

  it("says which file is missing", () => {
    const error = loadError(join(dir, "nope.yaml"));
    expect(error.source).toBe("file");
    expect(error.message).toContain(`cannot load kubeconfig file: file not found: ${join(dir, "nope.yaml")}`);
  });

  it("reports malformed inline text", () => {
    const error = loadError("clusters:\n  - name: [unclosed\n");
    expect(error.source).toBe("inline");
    expect(error.message).toMatch(/^cannot load inline kubeconfig: /);
  });

  it("reports a cluster without a server", () => {
    const text = kubeconfigYaml("https://x").replace("    server: https://x\n", "    insecure-skip-tls-verify: true\n");
    expect(loadError(text).message).toBe("cannot load inline kubeconfig: clusters[0].cluster.server is missing");
  });

  it("reports a missing current-context and a dangling cluster reference", () => {
    const noContext = kubeconfigYaml("https://x").replace("current-context: sim\n", "");
    expect(loadError(noContext).message).toBe("inline kubeconfig has no current-context (contexts: sim)");
    const dangling = kubeconfigYaml("https://x").replace("    cluster: sim\n", "    cluster: elsewhere\n");
    expect(loadError(dangling).message).toBe(
      'inline kubeconfig: context "sim" names cluster "elsewhere", which is not among its clusters',
    );
  });

  it("uses in-cluster credentials when the service host is set and the token exists", () => {
    const prefix = join(dir, "pod");
    const accountDir = join(prefix, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(accountDir, { recursive: true });
    writeFileSync(join(accountDir, "token"), "token");
    writeFileSync(join(accountDir, "namespace"), "paperclip\n");
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "10.0.0.1");
    vi.stubEnv("KUBERNETES_SERVICE_PORT", "443");
    const access = clusterAccessFor(undefined, { inClusterPathPrefix: prefix });
    expect(access).toMatchObject({ source: "in-cluster", currentNamespace: "paperclip", server: "https://10.0.0.1:443" });
    expect(clusterAccessFor("", { inClusterPathPrefix: prefix })).toBe(access);
  });

  it("falls back to $KUBECONFIG", () => {
    vi.stubEnv("KUBECONFIG", writeKubeconfig("env.yaml", kubeconfigYaml("https://env.example", "envns")));
    const access = clusterAccessFor(undefined, { inClusterPathPrefix: join(dir, "no-pod") });
    expect(access).toMatchObject({ source: "default", currentNamespace: "envns", server: "https://env.example" });
  });

  it("says so when there is no kubeconfig anywhere", () => {
    const emptyHome = join(dir, "home");
    mkdirSync(emptyHome, { recursive: true });
    vi.stubEnv("HOME", emptyHome);
    const error = loadError(undefined);
    expect(error.source).toBe("default");
    expect(error.message).toMatch(/no kubeconfig found/);
  });
});

describe("against the simulated cluster", () => {
  let cluster: SimCluster;
  beforeAll(async () => {
    cluster = await startSimCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(() => cluster.faults.clear());

  function job(name: string): V1Job {
    return {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name },
      spec: {
        suspend: true,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "agent", image: "registry.example.test/none:1" }] } },
      },
    };
  }

  it("talks to the cluster named by the kubeconfig file", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    expect(access.currentNamespace).toBe("default");
    const namespaces = await access.core.listNamespace();
    expect(namespaces.items.map((namespace) => namespace.metadata?.name)).toContain("kube-system");
  });

  it("retries a 429 after the server's Retry-After, read from the real response", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    cluster.faults.failRequests({ verb: "list", resource: "jobs", response: { kind: "status", status: 429, retryAfterSeconds: 1 }, count: 1 });
    const delays: number[] = [];
    const list = await withRetry(() => access.batch.listNamespacedJob({ namespace: "default" }), {
      onRetry: ({ delayMs }) => delays.push(delayMs),
    });
    expect(list.items).toBeInstanceOf(Array);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1_000);
  });

  it("returns the existing object when a retried create of our name meets 409 AlreadyExists", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    const name = "retried-create";
    await access.batch.createNamespacedJob({ namespace: "default", body: job(name) });
    // As if our first attempt had landed and its answer was lost.
    cluster.faults.failRequests({ verb: "create", resource: "jobs", response: { kind: "status", status: 503 }, count: 1 });
    const created = await withRetry(() => access.batch.createNamespacedJob({ namespace: "default", body: job(name) }), {
      baseDelayMs: 1,
      createdName: { name, readExisting: () => access.batch.readNamespacedJob({ name, namespace: "default" }) },
    });
    expect(created.metadata?.name).toBe(name);
    expect(created.metadata?.uid).toBeDefined();
  });

  it("reports a create conflict on the first attempt with code and Status message", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    const name = "taken";
    await access.batch.createNamespacedJob({ namespace: "default", body: job(name) });
    const error = await withRetry(() => access.batch.createNamespacedJob({ namespace: "default", body: job(name) }), {
      description: `create Job "${name}"`,
      createdName: { name, readExisting: () => access.batch.readNamespacedJob({ name, namespace: "default" }) },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ code: 409, status: { reason: "AlreadyExists" } });
    expect((error as Error).message).toMatch(/^create Job "taken": HTTP 409 AlreadyExists: /);
  });

  it("names the runtime and its version in the User-Agent of API calls and watches", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    expect(RUNTIME_USER_AGENT).toMatch(/^paperclip-k8s-runtime\/\d+\.\d+\.\d+/);
    cluster.requests.reset();
    await access.core.listNamespacedPod({ namespace: "default" });
    const watching = await access.watch.watch("/api/v1/namespaces/default/pods", {}, () => {}, () => {});
    watching.abort();
    expect(cluster.requests.snapshot().byUserAgent).toEqual({ [RUNTIME_USER_AGENT]: { pods: { list: 1, watch: 1 } } });
  });

  it("abortableCall aborts a generated API call in flight", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    cluster.faults.addLatency({ verb: "list", resource: "pods", ms: 2_000 });
    const controller = new AbortController();
    const call = access.core.listNamespacedPod({ namespace: "default" }, abortableCall(controller.signal));
    setTimeout(() => controller.abort(), 20);
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
  });
});
