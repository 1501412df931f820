import type { AdapterEnvironmentTestResult } from "@paperclipai/adapter-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEnvironment } from "./environment-test.ts";
import { RUNTIME_PERMISSIONS } from "./permissions.ts";
import { minimalAgent } from "./testing/minimal-agent.ts";
import { startConformanceCluster, type ConformanceCluster } from "./testing/sim-harness.ts";

/** The Service URL agent pods would use; the harness's own URL is loopback (its pods are local processes). */
const SERVICE_URL = "http://paperclip.paperclip.svc:3100";

let cluster: ConformanceCluster;
beforeAll(async () => {
  cluster = await startConformanceCluster(minimalAgent());
});
afterAll(async () => {
  await cluster.stop();
});

/** The environment test against the simulated cluster, as a server outside any pod with `env` would run it. */
function check(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<AdapterEnvironmentTestResult> {
  return testEnvironment("minimal_k8s", { companyId: "company-1", adapterType: "minimal_k8s", config: cluster.config(overrides) }, env);
}

function checkNamed(result: AdapterEnvironmentTestResult, code: string) {
  const found = result.checks.find((candidate) => candidate.code === code);
  if (!found) throw new Error(`no check ${code} in ${JSON.stringify(result.checks.map((candidate) => candidate.code))}`);
  return found;
}

describe("testEnvironment (simulated cluster)", () => {
  it("a working set-up passes every check; only the missing JWT secret warns", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL });
    expect(result.adapterType).toBe("minimal_k8s");
    expect(result.checks.filter((candidate) => candidate.level === "error")).toEqual([]);
    expect(result.checks.filter((candidate) => candidate.level === "warn").map((candidate) => candidate.code)).toEqual(["run_jwt"]);
    expect(result.status).toBe("warn");
    const codes = result.checks.map((candidate) => candidate.code);
    expect(codes).toEqual(expect.arrayContaining(["kubeconfig", "namespace", "shared_volume", "image", "api_url", "run_jwt"]));
    for (const permission of RUNTIME_PERMISSIONS) {
      expect(checkNamed(result, `rbac_${permission.resource}`).level).toBe("info");
    }
    expect(checkNamed(result, "shared_volume").message).toContain(cluster.claimName);
  });

  it("with the JWT secret set, the status is pass", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL }, { PAPERCLIP_AGENT_JWT_SECRET: "secret" });
    expect(result.status).toBe("pass");
  });

  it("a bad config value fails at once, naming the key", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL, timeoutSec: -5 });
    expect(result.status).toBe("fail");
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]).toMatchObject({ code: "config_invalid", level: "error" });
    expect(result.checks[0]?.message).toContain("timeoutSec");
    expect(result.checks[0]?.hint).toContain("timeoutSec");
  });

  it.each([
    ["config", { paperclipApiUrl: "http://127.0.0.1:3100" }, {}, "paperclipApiUrl"],
    ["config, localhost", { paperclipApiUrl: "http://localhost:3100" }, {}, "paperclipApiUrl"],
    ["config, IPv6", { paperclipApiUrl: "http://[::1]:3100" }, {}, "paperclipApiUrl"],
    ["the server's env", { paperclipApiUrl: null }, { PAPERCLIP_API_URL: "http://127.0.0.5:3100" }, "PAPERCLIP_API_URL"],
  ])("a loopback API URL from %s fails with a hint", async (_, overrides, env, source) => {
    const result = await check(overrides, env);
    expect(result.status).toBe("fail");
    const apiUrl = checkNamed(result, "api_url");
    expect(apiUrl.level).toBe("error");
    expect(apiUrl.message).toContain(`${source} `);
    expect(apiUrl.message).toMatch(/loopback/);
    expect(apiUrl.hint).toMatch(/paperclipApiUrl/);
  });

  it("no API URL at all warns", async () => {
    const result = await check({ paperclipApiUrl: null });
    expect(checkNamed(result, "api_url")).toMatchObject({ level: "warn" });
  });

  it("a shared claim that is not ReadWriteMany fails, saying so", async () => {
    await cluster.sim.store.create("persistentvolumeclaims", {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "single-node", namespace: cluster.namespace },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const result = await check({ paperclipApiUrl: SERVICE_URL, sharedVolumeClaim: "single-node" });
    expect(result.status).toBe("fail");
    const volume = checkNamed(result, "shared_volume");
    expect(volume.level).toBe("error");
    expect(volume.message).toMatch(/single-node is not ReadWriteMany \(access modes: ReadWriteOnce\)/);
    expect(volume.hint).toMatch(/ReadWriteMany/);
    expect(checkNamed(result, "image").level).toBe("info");
  });

  it("a claim that does not exist fails naming it, and the other checks still run", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL, sharedVolumeClaim: "no-such-claim" });
    expect(checkNamed(result, "shared_volume")).toMatchObject({ level: "error" });
    expect(checkNamed(result, "shared_volume").message).toMatch(/no-such-claim/);
    expect(checkNamed(result, "image").level).toBe("info");
    expect(checkNamed(result, "api_url").level).toBe("info");
  });

  it("an instance root outside the shared volume fails", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL, instanceRoot: "/var/lib/paperclip" });
    expect(checkNamed(result, "shared_volume").message).toMatch(/does not hold the instance root \/var\/lib\/paperclip/);
  });

  it("no image (none configured, no Paperclip pod to take it from) fails", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL, image: null });
    expect(result.status).toBe("fail");
    expect(checkNamed(result, "image")).toMatchObject({ level: "error", message: "No agent image configured" });
    expect(checkNamed(result, "image").hint).toMatch(/image/);
  });

  it("an unreachable API server fails at the namespace check", async () => {
    const result = await check({
      paperclipApiUrl: SERVICE_URL,
      kubeconfig: JSON.stringify({ ...cluster.sim.kubeconfig, clusters: [{ name: "sim", cluster: { server: "http://127.0.0.1:1", "insecure-skip-tls-verify": true } }] }),
    });
    expect(result.status).toBe("fail");
    expect(checkNamed(result, "namespace")).toMatchObject({ level: "error" });
  });
});
