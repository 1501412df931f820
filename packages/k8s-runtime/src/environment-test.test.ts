import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AdapterEnvironmentTestResult } from "@paperclipai/adapter-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOW_LOOPBACK_API_URL_ENV } from "./config.ts";
import { SHARED_VOLUME_CLAIM_ENV } from "./self-pod.ts";
import { testEnvironment } from "./environment-test.ts";
import { ALLOW_KUBECONFIG_EXEC_ENV } from "./kubeconfig-policy.ts";
import { ALLOWED_FILE_ROOTS_ENV } from "./server-paths.ts";
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

/**
 * The environment test against the simulated cluster, as a server outside any pod with `env` would run it. The
 * operator allows the cluster's kubeconfig file (not the loopback API URL, unless `env` says so).
 */
function check(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<AdapterEnvironmentTestResult> {
  // The operator's server settings of the cluster (instance root, shared volume), but not its loopback allowance.
  const serverSettings = Object.fromEntries(Object.entries(cluster.serverEnv).filter(([name]) => name !== ALLOW_LOOPBACK_API_URL_ENV));
  const serverEnv = { ...serverSettings, [ALLOWED_FILE_ROOTS_ENV]: cluster.sim.kubeconfigPath, ...env };
  return testEnvironment(minimalAgent(), { companyId: "company-1", adapterType: "minimal_k8s", config: cluster.config(overrides) }, serverEnv);
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
    expect(checkNamed(result, "storage_mode")).toMatchObject({ level: "info", message: `Claim ${cluster.claimName} is ReadWriteMany: agent pods run on any node` });
  });

  it("with the JWT secret set, the status is pass", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL }, { PAPERCLIP_AGENT_JWT_SECRET: "secret" });
    expect(result.status).toBe("pass");
  });

  it("a bad config value fails at once, naming the key", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL, timeoutSec: -5 });
    expect(result.status).toBe("fail");
    // The config-keys check, then the one that failed: nothing else runs on a config that cannot be parsed.
    expect(result.checks.map((candidate) => candidate.code)).toEqual(["config_keys", "config_invalid"]);
    expect(result.checks[1]).toMatchObject({ code: "config_invalid", level: "error" });
    expect(result.checks[1]?.message).toBe("config.timeoutSec must be a non-negative number up to 2147483647, got -5");
    expect(result.checks[1]?.hint).toContain("timeoutSec");
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

  it("a loopback API URL the operator allowed (single-host or simulated cluster) only warns", async () => {
    const result = await check({ paperclipApiUrl: "http://127.0.0.1:3100" }, { [ALLOW_LOOPBACK_API_URL_ENV]: "true" });
    expect(checkNamed(result, "api_url")).toMatchObject({ level: "warn" });
    expect(checkNamed(result, "api_url").message).toContain(ALLOW_LOOPBACK_API_URL_ENV);
  });

  it("unknown config keys are a named warning; the runtime's, the agent's and Paperclip's keys are known", async () => {
    const result = await check({
      paperclipApiUrl: SERVICE_URL,
      timeoutSecs: 30,
      namesapce: "x",
      promptTemplate: "p",
      instructionsBundleMode: "managed",
      paperclipRuntimeSkills: [],
      paperclipSkillSync: { desiredSkills: [] },
    }, { PAPERCLIP_AGENT_JWT_SECRET: "secret" });
    const keys = checkNamed(result, "config_keys");
    expect(keys.level).toBe("warn");
    expect(keys.message).toBe('Unknown config keys ignored (misspelt?): "timeoutSecs", "namesapce".');
    expect(result.status).toBe("warn");
  });

  describe("config that names server files or programs", () => {
    let outside: string;
    beforeAll(async () => {
      outside = await mkdtemp(path.join(tmpdir(), "env-test-outside-"));
    });
    afterAll(async () => {
      await rm(outside, { recursive: true, force: true });
    });

    it("an instructions file in /proc, outside the roots, or linked out of a root fails the named check", async () => {
      const secret = path.join(outside, "secret.md");
      await writeFile(secret, "server secret");
      const agentDir = path.join(cluster.instanceRoot, "companies", "company-1", "agents", "agent-7", "instructions");
      await mkdir(agentDir, { recursive: true });
      await writeFile(path.join(agentDir, "AGENTS.md"), "# agent 7");
      await symlink(secret, path.join(agentDir, "linked.md")).catch(() => undefined);
      for (const [file, problem] of [
        ["/proc/self/environ", /lies in \/proc/],
        [secret, /outside the allowed roots for instructions/],
        [path.join(agentDir, "linked.md"), /is a link to .*secret\.md, and it is outside the allowed roots/],
      ] as const) {
        const result = await check({ paperclipApiUrl: SERVICE_URL, instructionsFilePath: file });
        const instructions = checkNamed(result, "instructions_file");
        expect(instructions.level).toBe("error");
        expect(instructions.message).toMatch(problem);
        expect(instructions.hint).toContain(ALLOWED_FILE_ROOTS_ENV);
      }
      const managed = await check({ paperclipApiUrl: SERVICE_URL, instructionsFilePath: path.join(agentDir, "AGENTS.md") });
      expect(checkNamed(managed, "instructions_file").level).toBe("info");
    });

    it("a kubeconfig with an exec plugin is refused without running it, unless the operator allows plugins", async () => {
      const marker = path.join(outside, "exec-ran");
      const kubeconfig = JSON.stringify({
        ...cluster.sim.kubeconfig,
        users: [{ name: "me", user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "/bin/sh", args: ["-c", `touch ${marker}; echo '{}'`] } } }],
      });
      const result = await check({ paperclipApiUrl: SERVICE_URL, kubeconfig });
      const check1 = checkNamed(result, "kubeconfig");
      expect(check1.level).toBe("error");
      expect(check1.message).toMatch(/users\[0\]\.user uses an exec credential plugin/);
      expect(check1.message).not.toContain(marker);
      expect(check1.hint).toContain(ALLOW_KUBECONFIG_EXEC_ENV);
      expect(existsSync(marker)).toBe(false);
      const allowed = await check({ paperclipApiUrl: SERVICE_URL, kubeconfig }, { [ALLOW_KUBECONFIG_EXEC_ENV]: "true" });
      expect(checkNamed(allowed, "kubeconfig").level).toBe("info");
    });

    it("a kubeconfig path or token file outside the allowed roots is refused", async () => {
      const viaPath = await check({ paperclipApiUrl: SERVICE_URL, kubeconfig: "/proc/self/environ" });
      expect(checkNamed(viaPath, "kubeconfig").message).toMatch(/lies in \/proc/);
      const tokenFile = JSON.stringify({ ...cluster.sim.kubeconfig, users: [{ name: "me", user: { "token-file": "/proc/self/environ" } }] });
      const viaToken = await check({ paperclipApiUrl: SERVICE_URL, kubeconfig: tokenFile });
      expect(checkNamed(viaToken, "kubeconfig").message).toMatch(/users\[0\]\.user\.token-file is refused: it lies in \/proc/);
    });
  });

  it("no API URL at all warns", async () => {
    const result = await check({ paperclipApiUrl: null });
    expect(checkNamed(result, "api_url")).toMatchObject({ level: "warn" });
  });

  it("a ReadWriteOnce shared claim with the server outside a pod fails the storage_mode check, saying why", async () => {
    await cluster.sim.store.create("persistentvolumeclaims", {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "single-node", namespace: cluster.namespace },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const result = await check({ paperclipApiUrl: SERVICE_URL }, { [SHARED_VOLUME_CLAIM_ENV]: "single-node" });
    expect(result.status).toBe("fail");
    expect(checkNamed(result, "shared_volume").level).toBe("info");
    const mode = checkNamed(result, "storage_mode");
    expect(mode.level).toBe("error");
    expect(mode.message).toMatch(/single-node is not ReadWriteMany \(ReadWriteOnce\) and Paperclip does not run in a pod/);
    expect(mode.hint).toMatch(/ReadWriteMany/);
    expect(checkNamed(result, "image").level).toBe("info");
  });

  it("a claim that does not exist fails naming it, and the other checks still run", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL }, { [SHARED_VOLUME_CLAIM_ENV]: "no-such-claim" });
    expect(checkNamed(result, "shared_volume")).toMatchObject({ level: "error" });
    expect(checkNamed(result, "shared_volume").message).toMatch(/no-such-claim/);
    expect(checkNamed(result, "image").level).toBe("info");
    expect(checkNamed(result, "api_url").level).toBe("info");
  });

  it("an instance root outside the shared volume fails", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL }, { PAPERCLIP_HOME: "/var/lib/paperclip" });
    expect(checkNamed(result, "shared_volume").message).toMatch(/does not hold the instance root \/var\/lib\/paperclip/);
  });

  it("agent config naming another claim than the server's fails: the server decides what pods mount", async () => {
    const result = await check({ paperclipApiUrl: SERVICE_URL, sharedVolumeClaim: "someone-elses", sharedVolumeMountPath: "/" });
    expect(result.status).toBe("fail");
    expect(checkNamed(result, "shared_volume")).toMatchObject({ level: "error" });
    expect(checkNamed(result, "shared_volume").message).toMatch(/agent config may not choose what agent pods mount/);
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
