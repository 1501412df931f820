import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { get as httpsGet } from "node:https";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeconfigObject, SimCluster } from "../cluster.ts";
import { kubeconfigFor, startSimCluster } from "../cluster.ts";
import { apiError, eventually } from "../testing/clients.ts";
import { kubectlWith as kubectl } from "../testing/kubectl.ts";
import { createClusterTls } from "./certificates.ts";

let cluster: SimCluster;

beforeAll(async () => {
  cluster = await startSimCluster({ tls: true });
});
afterAll(async () => {
  await cluster.stop();
});

function clientFor(config: KubeconfigObject | AnonymousKubeconfig): CoreV1Api {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(JSON.stringify(config));
  return kubeConfig.makeApiClient(CoreV1Api);
}

type AnonymousKubeconfig = Omit<KubeconfigObject, "users"> & { users: { name: string; user: Record<string, never> }[] };

/** The same kubeconfig with no credentials at all. */
function withoutCredentials(config: KubeconfigObject): AnonymousKubeconfig {
  return { ...config, users: config.users.map((entry) => ({ name: entry.name, user: {} })) };
}

describe("the HTTPS listener", () => {
  it("npm run sim -- --https-kubeconfig writes the verified HTTPS kubeconfig next to the plain one", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sim-cli-tls-"));
    const httpsKubeconfig = path.join(dir, "https.json");
    const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
    const sim = spawn(process.execPath, ["--conditions=source", cli, "--kubeconfig", path.join(dir, "plain.json"), "--https-kubeconfig", httpsKubeconfig]);
    try {
      let output = "";
      sim.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      await eventually(() => (output.includes("Press Ctrl-C") ? true : undefined), 20_000, "the sim to start");
      expect(output).toMatch(/HTTPS \(cluster CA\) on https:\/\/127\.0\.0\.1:\d+\n/);
      const listed = await kubectl(httpsKubeconfig, ["get", "namespace", "default", "-o", "name"]);
      expect(listed).toMatchObject({ stdout: "namespace/default\n", stderr: "" });
    } finally {
      const exited = new Promise((resolve) => sim.once("exit", resolve));
      sim.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });


  it("is what the kubeconfig names with tls: true, verified against the cluster CA (no insecure-skip)", async () => {
    expect(cluster.url).toBe(cluster.httpsUrl);
    expect(cluster.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const entry = cluster.kubeconfig.clusters[0]?.cluster;
    expect(entry).toEqual({ server: cluster.url, "certificate-authority-data": Buffer.from(cluster.caCertPem).toString("base64") });
    const namespaces = await clientFor(cluster.kubeconfig).listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain("kube-system");
    const viaKubectl = await kubectl(cluster.kubeconfigPath, ["get", "namespaces", "-o", "name"]);
    expect(viaKubectl.stderr).toBe("");
    expect(viaKubectl.stdout).toContain("namespace/default\n");
  });

  it("serves a certificate that openssl verifies against the CA, for 127.0.0.1, localhost and kubernetes.default.svc", async () => {
    const caFile = path.join(cluster.rootDir, "ca.pem");
    const leafFile = path.join(cluster.rootDir, "served.pem");
    writeFileSync(caFile, cluster.caCertPem);
    const served = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: Number(new URL(cluster.httpsUrl).port), servername: "kubernetes.default.svc", ca: cluster.caCertPem }, () => {
        resolve(socket.getPeerCertificate().raw);
        socket.end();
      });
      socket.on("error", reject);
    });
    writeFileSync(leafFile, `-----BEGIN CERTIFICATE-----\n${served.toString("base64")}\n-----END CERTIFICATE-----\n`);
    expect(execFileSync("openssl", ["verify", "-CAfile", caFile, leafFile], { encoding: "utf8" })).toBe(`${leafFile}: OK\n`);
    const names = execFileSync("openssl", ["x509", "-in", leafFile, "-noout", "-ext", "subjectAltName"], { encoding: "utf8" });
    for (const name of ["IP Address:127.0.0.1", "DNS:localhost", "DNS:kubernetes.default.svc"]) expect(names).toContain(name);
  });

  it("is refused by clients that trust another CA", async () => {
    const otherCa = createClusterTls().caCertPem;
    const failure = await clientFor(kubeconfigFor(cluster.httpsUrl, otherCa)).listNamespace().then(
      () => undefined,
      (error: unknown) => error,
    );
    const cause = failure instanceof Error && failure.cause instanceof Error ? failure.cause.message : String(failure);
    expect(cause).toMatch(/unable to verify the first certificate|self.signed|unable to get local issuer/i);
    const file = path.join(cluster.rootDir, "other-ca-kubeconfig.json");
    writeFileSync(file, JSON.stringify(kubeconfigFor(cluster.httpsUrl, otherCa)));
    const viaKubectl = await kubectl(file, ["get", "namespaces"]);
    expect(viaKubectl.code).not.toBe(0);
    expect(viaKubectl.stderr).toContain("certificate signed by unknown authority");
  });

  it("answers a request without credentials as system:anonymous: version yes, resources 403", async () => {
    const anonymous = withoutCredentials(cluster.kubeconfig);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(JSON.stringify(anonymous));
    expect((await kubeConfig.makeApiClient(VersionApi).getCode()).major).toBe("1");
    const refused = await apiError(clientFor(anonymous).listNamespace());
    expect(refused).toMatchObject({
      code: 403,
      body: {
        reason: "Forbidden",
        message: 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope',
        details: { group: "", kind: "namespaces" },
      },
    });
  });

  it("answers an unknown bearer token with the real 401 Status (kubectl: You must be logged in)", async () => {
    for (const host of ["127.0.0.1", "localhost"]) {
      const url = `${cluster.httpsUrl.replace("127.0.0.1", host)}/api/v1/namespaces`;
      const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const request = httpsGet(url, { ca: cluster.caCertPem, headers: { Authorization: "Bearer not-a-token" } }, (response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => (text += chunk.toString()));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
        });
        request.on("error", reject);
      });
      expect(answer).toEqual({
        status: 401,
        body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 },
      });
    }
    const viaKubectl = await kubectl(cluster.kubeconfigPath, ["get", "pods", "--token=not-a-token"]);
    expect(viaKubectl.stderr).toBe("error: You must be logged in to the server (Unauthorized)\n");
  });
});
