import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Job } from "@kubernetes/client-node";
import { type SimCluster, startSimCluster } from "paperclip-k8s-sim";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ClusterAccessError,
  abortableCall,
  clusterAccessFor,
  configuredClusterAccess,
  forgetClusterAccess,
  isInlineKubeconfig,
  RUNTIME_USER_AGENT,
} from "./cluster-access.ts";
import { CALL_CONNECTIONS } from "./cluster-connections.ts";
import { ConfigForbiddenError, ConfigValueError } from "./config-values.ts";
import { ALLOW_KUBECONFIG_EXEC_ENV, kubeconfigPolicy } from "./kubeconfig-policy.ts";
import { KubernetesApiError, withRetry } from "./retry-policy.ts";
import { ALLOWED_FILE_ROOTS_ENV } from "./server-paths.ts";
import { openWatchStream } from "./watch-stream.ts";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "cluster-access-")));
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

describe("configuredClusterAccess (a kubeconfig from agent config)", () => {
  const allowed = join(dir, "allowed");
  const outside = join(dir, "outside");
  mkdirSync(allowed, { recursive: true });
  mkdirSync(outside, { recursive: true });
  const policy = (env: NodeJS.ProcessEnv = {}) =>
    kubeconfigPolicy({ instanceRoot: join(dir, "instance"), companyId: "c1", agentId: "a1", env: { [ALLOWED_FILE_ROOTS_ENV]: allowed, ...env } });
  const withUser = (user: Record<string, unknown>): string =>
    kubeconfigYaml("https://agent.example").replace("  user:\n    token: abc\n", `  user: ${JSON.stringify(user)}\n`);

  async function refusal(setting: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigValueError> {
    const error = await configuredClusterAccess(setting, policy(env)).catch((caught: unknown) => caught);
    if (error instanceof ConfigValueError) return error;
    throw new Error(`expected a config error, got ${String(error)}`);
  }

  it("refuses exec and auth-provider plugins without running them; the operator's env allows them", async () => {
    const marker = join(outside, "plugin-ran");
    const exec = withUser({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", `touch ${marker}`] } });
    const error = await refusal(exec);
    expect(error).toBeInstanceOf(ConfigForbiddenError);
    expect(error.key).toBe("kubeconfig");
    expect(error.message).toBe(
      `config.kubeconfig is refused: users[0].user uses an exec credential plugin, which would run a program on the Paperclip server; the operator can allow plugins with ${ALLOW_KUBECONFIG_EXEC_ENV}=true on the server`,
    );
    expect((await refusal(withUser({ "auth-provider": { name: "gcp", config: { "cmd-path": "/bin/sh" } } }))).message).toContain(
      "users[0].user uses an auth-provider credential plugin",
    );
    const access = await configuredClusterAccess(exec, policy({ [ALLOW_KUBECONFIG_EXEC_ENV]: "true" }));
    expect(access.server).toBe("https://agent.example");
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses token, certificate and CA files outside the roots (a token file would be sent to the kubeconfig's server)", async () => {
    for (const [user, where] of [
      [{ "token-file": "/proc/self/environ" }, "users[0].user.token-file is refused: it lies in /proc"],
      [{ "client-key": join(outside, "key.pem") }, "users[0].user.client-key is refused: it is outside the allowed roots for kubeconfig"],
      [{ "client-certificate": "/dev/stdin" }, "users[0].user.client-certificate is refused: it lies in /dev"],
    ] as const) {
      const error = await refusal(withUser(user));
      expect(error).toBeInstanceOf(ConfigForbiddenError);
      expect(error.message).toContain(where);
    }
    const ca = kubeconfigYaml("https://agent.example").replace("    server: https://agent.example", `    server: https://agent.example\n    certificate-authority: ${outside}/ca.pem`);
    expect((await refusal(ca)).message).toContain("clusters[0].cluster.certificate-authority is refused");
    writeFileSync(join(allowed, "token"), "allowed-token");
    const access = await configuredClusterAccess(withUser({ "token-file": join(allowed, "token") }), policy());
    expect(access.kubeConfig.getCurrentUser()?.token).toBe("allowed-token");
  });

  it("a kubeconfig path gets the path policy: /proc, outside the roots, a link out of a root, a FIFO are refused", async () => {
    const secretFile = join(outside, "kubeconfig");
    writeFileSync(secretFile, kubeconfigYaml("https://outside.example"));
    symlinkSync(secretFile, join(allowed, "linked"));
    const fifo = join(allowed, "fifo");
    execFileSync("mkfifo", [fifo]);
    expect((await refusal("/proc/self/environ")).message).toContain("lies in /proc");
    expect((await refusal(secretFile)).message).toContain("outside the allowed roots for kubeconfig");
    expect((await refusal(join(allowed, "linked"))).message).toMatch(/is a link to .*outside\/kubeconfig/);
    expect((await refusal(fifo)).message).toMatch(/is refused: .*is a FIFO/);
    const good = join(allowed, "config.yaml");
    writeFileSync(good, kubeconfigYaml("https://allowed.example", "agents"));
    const access = await configuredClusterAccess(good, policy());
    expect(access).toMatchObject({ source: "file", server: "https://allowed.example", currentNamespace: "agents" });
    expect(await configuredClusterAccess(good, policy())).toBe(access);
  });

  it("never quotes the kubeconfig's text in a message (it holds credentials)", async () => {
    const token = "tok-9f8e7d6c5b4a";
    for (const text of [`users:\n- name: me\n  user: {token: ${token}\n`, `{"users": [{"token": "${token}"}`]) {
      const error = await refusal(text);
      expect(error.message).toMatch(/^config\.kubeconfig is not valid YAML or JSON at line \d+, column \d+/);
      expect(error.message).not.toContain(token);
      expect(loadError(text).message).not.toContain(token);
    }
    expect((await refusal("- 1\n- 2\n")).message).toBe("config.kubeconfig is not a kubeconfig (a YAML or JSON object)");
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
    const watching = await openWatchStream(access.kubeConfig, "/api/v1/namespaces/default/pods", {}, () => {}, () => {});
    watching.abort();
    expect(cluster.requests.snapshot().byUserAgent).toEqual({ [RUNTIME_USER_AGENT]: { pods: { list: 1, watch: 1 } } });
  });

  // undici hands a socket back to its pool a moment after the body was read, so a call made right after another may
  // open a second connection; from then on they take turns. client-node alone opens one connection per call.
  const POOLED_CONNECTIONS = 2;

  it("sends the calls of a client set over its keep-alive pool, not a connection per call", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    forgetClusterAccess(access.key);
    const fresh = clusterAccessFor(cluster.kubeconfigPath);
    cluster.requests.reset();
    for (let call = 0; call < 10; call++) await fresh.core.listNamespacedPod({ namespace: "default" });
    await fresh.batch.createNamespacedJob({ namespace: "default", body: job("over-one-pool") });
    await fresh.batch.deleteNamespacedJob({ name: "over-one-pool", namespace: "default" });
    const snapshot = cluster.requests.snapshot();
    expect(snapshot.total).toBe(12);
    expect(snapshot.connectionsOpened).toBeLessThanOrEqual(POOLED_CONNECTIONS);
  });

  it("over TLS with the cluster's CA and a bearer token, the calls share the pool's connections (and their handshakes)", async () => {
    const access = clusterAccessFor(JSON.stringify(cluster.httpsKubeconfig));
    cluster.requests.reset();
    for (let call = 0; call < 10; call++) await access.core.listNamespacedPod({ namespace: "default" });
    const snapshot = cluster.requests.snapshot();
    // The HTTPS listener takes a call without credentials as anonymous, which may not list pods: the token was sent.
    expect(snapshot.byResource).toEqual({ pods: { list: 10 } });
    expect(snapshot.connectionsOpened).toBeLessThanOrEqual(POOLED_CONNECTIONS);
  });

  it("a burst of calls shares a few connections; watches, which hold theirs, never leave calls waiting", async () => {
    const access = clusterAccessFor(cluster.kubeconfigPath);
    forgetClusterAccess(access.key);
    const fresh = clusterAccessFor(cluster.kubeconfigPath);
    cluster.requests.reset();
    await Promise.all(Array.from({ length: 40 }, () => fresh.core.listNamespacedPod({ namespace: "default" })));
    expect(cluster.requests.snapshot().connectionsOpened).toBeLessThanOrEqual(CALL_CONNECTIONS);
    const watches = await Promise.all(
      Array.from({ length: CALL_CONNECTIONS + 2 }, () => openWatchStream(fresh.kubeConfig, "/api/v1/namespaces/default/pods", {}, () => {}, () => {})),
    );
    try {
      expect(cluster.requests.snapshot().openWatches).toEqual({ pods: CALL_CONNECTIONS + 2 });
      const list = await fresh.core.listNamespacedPod({ namespace: "default" });
      expect(list.items).toBeInstanceOf(Array);
    } finally {
      for (const watching of watches) watching.abort();
    }
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
