import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { paperclipConfigSchema } from "@paperclipai/shared";
import { RUNTIME_PERMISSIONS } from "paperclip-k8s-runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { restrictedViolations } from "./pod-security.ts";
import { at, listAt, recordAt, renderKit, renderKustomization, repoRoot, textAt, type JsonRecord, type RenderedKit } from "./rendered-kit.ts";

/** The labels every agent pod carries (DESIGN §3 "Labels and names": operators select on them). */
const AGENT_POD_LABELS = { "app.kubernetes.io/managed-by": "paperclip", "app.kubernetes.io/component": "agent-job" };
const NAMESPACE = "paperclip";
const CLUSTER_SCOPED = new Set(["Namespace"]);

function envValue(container: unknown, name: string): string {
  const entry = listAt(container, "env").find((item) => at(item, "name") === name);
  return textAt(entry, "value");
}

function paperclipContainer(deployment: JsonRecord): unknown {
  const containers = listAt(deployment, "spec", "template", "spec", "containers");
  expect(containers).toHaveLength(1);
  return containers[0];
}

function dockerfile(image: string): string {
  return readFileSync(path.join(repoRoot, "deploy", "images", image, "Dockerfile"), "utf8");
}

describe.each([
  { overlay: "rwx", accessMode: "ReadWriteMany" },
  { overlay: "rwo", accessMode: "ReadWriteOnce" },
])("kubectl kustomize deploy/overlays/$overlay", ({ overlay, accessMode }) => {
  let kit: RenderedKit;
  let deployment: JsonRecord;
  let container: unknown;
  beforeAll(async () => {
    kit = await renderKit(overlay);
    deployment = kit.one("Deployment");
    container = paperclipContainer(deployment);
  });

  it("puts everything in the paperclip namespace, which enforces the restricted Pod Security Standard", () => {
    expect(at(kit.one("Namespace"), "metadata")).toMatchObject({
      name: NAMESPACE,
      labels: { "pod-security.kubernetes.io/enforce": "restricted" },
    });
    for (const object of kit.objects.filter((candidate) => !CLUSTER_SCOPED.has(String(candidate.kind)))) {
      expect({ kind: object.kind, namespace: at(object, "metadata", "namespace") }).toEqual({ kind: object.kind, namespace: NAMESPACE });
    }
    expect(kit.objects.filter((object) => object.kind === "Secret")).toEqual([]);
  });

  it("grants Paperclip's service account exactly the runtime's permissions", () => {
    const role = kit.one("Role");
    expect(at(role, "rules")).toEqual(
      RUNTIME_PERMISSIONS.map((permission) => ({ apiGroups: [permission.group], resources: [permission.resource], verbs: [...permission.verbs] })),
    );
    const serviceAccount = textAt(deployment, "spec", "template", "spec", "serviceAccountName");
    kit.one("ServiceAccount", serviceAccount);
    const binding = kit.one("RoleBinding");
    expect(at(binding, "roleRef")).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: at(role, "metadata", "name") });
    expect(at(binding, "subjects")).toEqual([{ kind: "ServiceAccount", name: serviceAccount, namespace: NAMESPACE }]);
  });

  it(`claims the shared volume ${accessMode} and mounts it at Paperclip's instance root`, () => {
    const claim = kit.one("PersistentVolumeClaim");
    expect(at(claim, "spec", "accessModes")).toEqual([accessMode]);
    const volume = listAt(deployment, "spec", "template", "spec", "volumes").find((item) => at(item, "persistentVolumeClaim", "claimName") === at(claim, "metadata", "name"));
    const mount = listAt(container, "volumeMounts").find((item) => at(item, "name") === at(volume, "name"));
    const instanceRoot = path.posix.join(envValue(container, "PAPERCLIP_HOME"), "instances", envValue(container, "PAPERCLIP_INSTANCE_ID"));
    expect(at(mount, "mountPath")).toBe(instanceRoot);
    expect(at(mount, "subPath")).toBeUndefined();
  });

  it("runs one Paperclip server at a time: one replica, strategy Recreate", () => {
    expect(at(deployment, "spec", "replicas")).toBe(1);
    expect(at(deployment, "spec", "strategy")).toEqual({ type: "Recreate" });
  });

  it("points PAPERCLIP_API_URL at the Service's DNS name and port, and the Service at the server", () => {
    const service = kit.one("Service");
    expect(at(service, "spec", "type")).toBe("ClusterIP");
    const apiUrl = new URL(envValue(container, "PAPERCLIP_API_URL"));
    expect(apiUrl.hostname).toBe(`${textAt(service, "metadata", "name")}.${NAMESPACE}.svc.cluster.local`);
    const servicePort = listAt(service, "spec", "ports")[0];
    expect(Number(apiUrl.port)).toBe(at(servicePort, "port"));
    const containerPort = listAt(container, "ports").find((port) => at(port, "name") === at(servicePort, "targetPort"));
    expect(at(containerPort, "containerPort")).toEqual(expect.any(Number));
    expect(at(deployment, "spec", "template", "metadata", "labels")).toMatchObject(recordAt(service, "spec", "selector"));
  });

  it("gives Paperclip a config its own schema accepts: authenticated, the Service's names allowed, every path on the claim", () => {
    const configPath = envValue(container, "PAPERCLIP_CONFIG");
    const configMap = kit.one("ConfigMap");
    const mount = listAt(container, "volumeMounts").find((item) => at(item, "mountPath") === path.posix.dirname(configPath));
    const volume = listAt(deployment, "spec", "template", "spec", "volumes").find((item) => at(item, "name") === at(mount, "name"));
    expect(at(volume, "configMap", "name")).toBe(at(configMap, "metadata", "name"));
    const config = paperclipConfigSchema.parse(JSON.parse(textAt(configMap, "data", path.posix.basename(configPath))));

    expect(config.server).toMatchObject({ deploymentMode: "authenticated", exposure: "private", host: "0.0.0.0" });
    expect(config.server.allowedHostnames).toContain(new URL(envValue(container, "PAPERCLIP_API_URL")).hostname);
    expect(listAt(container, "ports").map((port) => at(port, "containerPort"))).toContain(config.server.port);
    const instanceRoot = path.posix.join(envValue(container, "PAPERCLIP_HOME"), "instances", envValue(container, "PAPERCLIP_INSTANCE_ID"));
    const paths = [
      config.database.embeddedPostgresDataDir,
      config.database.backup.dir,
      config.logging.logDir,
      config.storage.localDisk.baseDir,
      config.secrets.localEncrypted.keyFilePath,
    ];
    for (const file of paths) expect(file.startsWith(`${instanceRoot}/`), `${file} lies in ${instanceRoot}`).toBe(true);
  });

  it("takes every secret by reference from a Secret the operator creates, never as a literal", () => {
    const env = listAt(container, "env");
    const names = env.map((entry) => at(entry, "name"));
    expect(names).toEqual(expect.arrayContaining(["BETTER_AUTH_SECRET", "PAPERCLIP_AGENT_JWT_SECRET", "DATABASE_URL"]));
    for (const entry of env.filter((item) => /SECRET|TOKEN|PASSWORD|KEY|DATABASE_URL/.test(String(at(item, "name"))))) {
      expect(at(entry, "value"), String(at(entry, "name"))).toBeUndefined();
      expect(at(entry, "valueFrom", "secretKeyRef", "name"), String(at(entry, "name"))).toEqual(expect.any(String));
    }
  });

  it("passes the agent CLIs' API keys (Claude Code, Codex, Gemini CLI) from the optional paperclip-llm Secret", () => {
    const env = listAt(container, "env");
    for (const name of ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"]) {
      const entry = env.find((item) => at(item, "name") === name);
      expect(at(entry, "valueFrom", "secretKeyRef"), name).toEqual({ name: "paperclip-llm", key: name, optional: true });
    }
  });

  it("probes Paperclip's health endpoint, with a host name Paperclip's private-hostname guard accepts", () => {
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
      const httpGet = at(container, probe, "httpGet");
      expect(httpGet, probe).toMatchObject({ path: "/api/health", port: "http" });
      expect(at(httpGet, "httpHeaders"), probe).toEqual([{ name: "Host", value: "localhost" }]);
    }
  });

  it("runs the Paperclip pod as the restricted Pod Security Standard requires, with an fsGroup", () => {
    const podSpec = at(deployment, "spec", "template", "spec");
    expect(restrictedViolations(podSpec)).toEqual([]);
    expect(at(podSpec, "securityContext", "fsGroup")).toEqual(expect.any(Number));
    expect(at(podSpec, "securityContext", "runAsUser")).toBeGreaterThan(0);
  });

  it("limits agent pods to DNS, the Paperclip server and HTTPS outside private ranges, and admits nothing in", () => {
    const policy = kit.one("NetworkPolicy");
    expect(at(policy, "spec", "podSelector")).toEqual({ matchLabels: AGENT_POD_LABELS });
    expect(at(policy, "spec", "policyTypes")).toEqual(expect.arrayContaining(["Ingress", "Egress"]));
    expect(at(policy, "spec", "ingress") ?? []).toEqual([]);
    const egress = listAt(policy, "spec", "egress");
    expect(egress).toHaveLength(3);
    const [dns, server, https] = egress;
    expect(at(dns, "to", 0, "podSelector", "matchLabels")).toEqual({ "k8s-app": "kube-dns" });
    expect(at(dns, "ports")).toEqual([
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
    expect(at(deployment, "spec", "template", "metadata", "labels")).toMatchObject(recordAt(server, "to", 0, "podSelector", "matchLabels"));
    const serverPort = listAt(container, "ports")[0];
    expect(at(server, "ports")).toEqual([{ protocol: "TCP", port: at(serverPort, "containerPort") }]);
    expect(at(https, "to", 0, "ipBlock", "cidr")).toBe("0.0.0.0/0");
    expect(at(https, "to", 0, "ipBlock", "except")).toEqual(expect.arrayContaining(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]));
    expect(at(https, "ports")).toEqual([{ protocol: "TCP", port: 443 }]);
  });

  it("runs the Paperclip image as its Dockerfile builds it: the command on its PATH, its PAPERCLIP_HOME, its user", () => {
    const recipe = dockerfile("paperclip");
    expect(textAt(container, "image")).toMatch(/\/paperclip-server:2026\.916\.1$/);
    expect(at(container, "command")).toEqual(["paperclip-server"]);
    expect(recipe).toMatch(/^CMD \["paperclip-server"\]$/m);
    expect(recipe).toContain(`PAPERCLIP_HOME=${envValue(container, "PAPERCLIP_HOME")}`);
    expect(recipe).toMatch(/^ENV PATH=\/opt\/paperclip\/bin:/m);
    expect(recipe).toContain("install.sh /opt/paperclip /paperclip");
    const uid = at(deployment, "spec", "template", "spec", "securityContext", "runAsUser");
    expect(recipe).toContain(`useradd --uid ${String(uid)}`);
    expect(recipe).toContain(`USER ${String(uid)}:`);
  });
});

describe("docs/deploy.md", () => {
  it("has an example overlay that renders, with the operator's image and storage class", async () => {
    const guide = readFileSync(path.join(repoRoot, "docs", "deploy.md"), "utf8");
    const example = /```yaml\n# my-paperclip\/kustomization.yaml\n([\s\S]*?)```/.exec(guide)?.[1];
    if (example === undefined) throw new Error("docs/deploy.md has no my-paperclip/kustomization.yaml example");
    const dir = await mkdtemp(path.join(tmpdir(), "deploy-kit-overlay-"));
    try {
      // The guide's overlay sits beside deploy/ at the repository root; this copy sits in a temp directory.
      const kitFromHere = path.relative(dir, path.join(repoRoot, "deploy"));
      await writeFile(path.join(dir, "kustomization.yaml"), example.replaceAll("../deploy/", `${kitFromHere}/`));
      const kit = await renderKustomization(dir);
      expect(textAt(paperclipContainer(kit.one("Deployment")), "image")).toBe("my-registry.example.org/paperclip/paperclip-server:2026.916.1");
      expect(at(kit.one("PersistentVolumeClaim"), "spec")).toMatchObject({ accessModes: ["ReadWriteMany"], storageClassName: "nfs-client" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
