/**
 * The operator's topology on the simulated cluster (DESIGN §10): HTTPS API server, RBAC and the `restricted` Pod
 * Security Standard enforced, and the deployment kit (`deploy/overlays/<overlay>`) applied with the real kubectl,
 * so Paperclip runs as the pod of the kit's Deployment, from a Paperclip image the kit's own recipe builds
 * (`deploy/images/paperclip/install.sh` with the adapters packed from this repo). Agents run from the fake agent
 * image. The test reaches Paperclip through its Service's ClusterIP, as anything in the cluster would.
 *
 * What the overlay changes for the simulated cluster, and why (see docs/deploy.md for the kit itself):
 * - the images point at the simulated ones;
 * - Paperclip's home is the image directory built here (pods have no image root filesystem), and the claim is
 *   mounted at its instance root;
 * - the pod runs as the host's `paperclip` user (embedded PostgreSQL needs a passwd entry, and refuses root);
 * - `local_trusted` on 127.0.0.1 instead of `authenticated` (pods share the host's network in the sim, so the
 *   kube-proxy's connections are loopback ones and act as the local admin: no login flow in the test);
 * - free ports for the server and its PostgreSQL (simulated pods share the host's ports);
 * - the Secret the operator creates, as a secretGenerator.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { claudeAgent } from "paperclip-adapter-claude-k8s";
import { codexAgent } from "paperclip-adapter-codex-k8s";
import { geminiAgent } from "paperclip-adapter-gemini-k8s";
import { opencodeAgent } from "paperclip-adapter-opencode-k8s";
import { buildFakeAgentImage } from "paperclip-k8s-runtime/testing";
import { startSimCluster, type SimCluster } from "paperclip-k8s-sim";
import { parseDocument } from "yaml";
import { repoRoot } from "./e2e-environment.ts";
import { paperclipApi, type JsonObject, type PaperclipApi } from "./paperclip-api.ts";
import { freePort, lookUpUser, type ServerUser } from "./paperclip-server.ts";

/** The kit's namespace, Deployment, Service, Role and service account. */
export const KIT = {
  namespace: "paperclip",
  deployment: "paperclip",
  service: "paperclip",
  role: "paperclip-agent-jobs",
  serviceAccount: "paperclip",
  /** The shared claim holding Paperclip's instance root (`deploy/base/pvc.yaml`). */
  claim: "paperclip-data",
} as const;
const KIT_SERVER_IMAGE = "registry.example.com/paperclip/paperclip-server";
const SIM_SERVER_IMAGE = { name: "registry.example.test/paperclip/paperclip-server", tag: "e2e" };
/** The agents' image: the fake agent CLI under every adapter's executable name. */
export const AGENT_IMAGE = "registry.example.test/paperclip/fake-agent:e2e";
const READY_TIMEOUT_S = 300;

export interface TopologyOptions {
  overlay: "rwx" | "rwo";
  /** Node names (default: the sim's one node). */
  nodes?: string[];
}

export interface OperatorTopology {
  sim: SimCluster;
  api: PaperclipApi;
  companyId: string;
  user: ServerUser;
  /** `kubectl <args>` as the cluster admin; resolves with stdout, rejects with stderr in the message. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** `kubectl auth can-i <verb> <resource> -n <kit namespace> --as=<user>`: the cluster's own answer. */
  canI(user: string, verb: string, resource: string): Promise<boolean>;
  /** The running Paperclip pods of the Deployment. */
  serverPods(): JsonObject[];
  /** Objects of `resource` in the kit's namespace labelled with the agent's id. */
  ofAgent(resource: "jobs" | "pods" | "secrets", agentId: string): JsonObject[];
  /** Waits until the Deployment has a ready pod again (after a pod deletion) and Paperclip answers. */
  waitForServer(): Promise<void>;
  /** Paperclip's output (the pod's container log), last part, for failure messages. */
  serverLog(): Promise<string>;
  stop(): Promise<void>;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { cwd: repoRoot, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr.slice(-5000)}`));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The pinned Node first on PATH, as `npm run` gives it. */
function pinnedNodeEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
}

/**
 * Builds the simulated Paperclip image with the kit's recipe: `install.sh <prefix> <home> <tarballs>` with the
 * runtime and the four adapters packed from this repo, the set the image installs by default (the packages were
 * built by the global setup). Returns the image's layers and its PAPERCLIP_HOME.
 */
async function buildPaperclipImage(base: string, user: ServerUser): Promise<{ layers: string[]; home: string }> {
  const env = { ...pinnedNodeEnv(), npm_config_prefer_offline: "true" };
  const tarballs = path.join(base, "tarballs");
  await mkdir(tarballs, { recursive: true });
  for (const pkg of ["k8s-runtime", "adapter-claude", "adapter-opencode", "adapter-codex", "adapter-gemini"]) {
    await run("npm", ["pack", "--silent", "--pack-destination", tarballs, path.join(repoRoot, "packages", pkg)], { env });
  }
  const files = (await readdir(tarballs)).map((file) => path.join(tarballs, file));
  const prefix = path.join(base, "image");
  const home = path.join(base, "paperclip");
  await run("sh", [path.join(repoRoot, "deploy", "images", "paperclip", "install.sh"), prefix, home, ...files], { env });
  // The image's files belong to the user the pod runs as (the Dockerfile's `chown`).
  await run("chown", ["-R", `${user.uid}:${user.gid}`, home]);
  return { layers: [path.join(prefix, "bin"), path.dirname(await realpath(process.execPath))], home };
}

/** Paperclip's config from the kit's ConfigMap, with the simulated set-up's changes (see the module comment). */
async function simConfig(home: string, port: number, postgresPort: number): Promise<string> {
  const configMap: unknown = parseDocument(await readFile(path.join(repoRoot, "deploy", "base", "configmap.yaml"), "utf8")).toJS();
  const text = isRecord(configMap) && isRecord(configMap.data) ? configMap.data["config.json"] : undefined;
  if (typeof text !== "string") throw new Error("deploy/base/configmap.yaml has no data.config.json");
  const config: unknown = JSON.parse(text.replaceAll("/paperclip/", `${home}/`));
  if (!isRecord(config) || !isRecord(config.server) || !isRecord(config.database)) throw new Error("the kit's config.json has no server or database section");
  config.server = { ...config.server, deploymentMode: "local_trusted", bind: "loopback", host: "127.0.0.1", port };
  config.database = { ...config.database, embeddedPostgresPort: postgresPort };
  return JSON.stringify(config, null, 2);
}

/** The overlay, written to `dir`: the kit's overlay by a relative path (kustomize refuses absolute ones). */
async function writeOverlay(dir: string, overlay: string, settings: { home: string; user: ServerUser; port: number; config: string }): Promise<void> {
  const { home, user, port, config } = settings;
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: [path.relative(dir, path.join(repoRoot, "deploy", "overlays", overlay))],
    images: [{ name: KIT_SERVER_IMAGE, newName: SIM_SERVER_IMAGE.name, newTag: SIM_SERVER_IMAGE.tag }],
    secretGenerator: [
      {
        name: "paperclip-secrets",
        namespace: KIT.namespace,
        options: { disableNameSuffixHash: true },
        literals: [`BETTER_AUTH_SECRET=operator-topology-auth-${Date.now()}`, `PAPERCLIP_AGENT_JWT_SECRET=operator-topology-jwt-${Date.now()}`],
      },
    ],
    patches: [
      {
        target: { kind: "Deployment", name: KIT.deployment },
        // JSON patches: a strategic merge keys mounts by path and ports by number, and would add second ones.
        patch: JSON.stringify([
          { op: "replace", path: "/spec/template/spec/containers/0/volumeMounts/0/mountPath", value: path.join(home, "instances", "default") },
          { op: "replace", path: "/spec/template/spec/containers/0/ports/0/containerPort", value: port },
          { op: "replace", path: "/spec/template/spec/securityContext/runAsUser", value: user.uid },
          { op: "replace", path: "/spec/template/spec/securityContext/runAsGroup", value: user.gid },
          { op: "replace", path: "/spec/template/spec/securityContext/fsGroup", value: user.gid },
          { op: "replace", path: "/spec/template/spec/containers/0/readinessProbe/periodSeconds", value: 1 },
          { op: "replace", path: "/spec/template/spec/containers/0/startupProbe/periodSeconds", value: 1 },
          { op: "replace", path: "/spec/template/spec/containers/0/startupProbe/failureThreshold", value: READY_TIMEOUT_S },
        ]),
      },
      {
        target: { kind: "Deployment", name: KIT.deployment },
        patch: JSON.stringify({
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: KIT.deployment },
          spec: { template: { spec: { containers: [{ name: "paperclip", env: [{ name: "PAPERCLIP_HOME", value: home }] }] } } },
        }),
      },
      {
        target: { kind: "ConfigMap", name: "paperclip-config" },
        patch: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "paperclip-config" }, data: { "config.json": config } }),
      },
    ],
  };
  await writeFile(path.join(dir, "kustomization.yaml"), JSON.stringify(kustomization, null, 2));
}

function labelsOf(item: JsonObject): JsonObject {
  return isRecord(item.metadata) && isRecord(item.metadata.labels) ? item.metadata.labels : {};
}

export async function startOperatorTopology(options: TopologyOptions): Promise<OperatorTopology> {
  const user = lookUpUser(process.env.PAPERCLIP_USER ?? "paperclip");
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error("operator topology cleanup:", error));
  };
  try {
    const base = await mkdtemp(path.join(tmpdir(), "operator-topology-"));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    // Pods run as the paperclip user: it must reach the image directories.
    await chmod(base, 0o755);
    const paperclipImage = await buildPaperclipImage(base, user);
    const agentImage = await buildFakeAgentImage([claudeAgent, opencodeAgent, codexAgent, geminiAgent]);
    cleanups.push(() => agentImage.remove());

    const sim = await startSimCluster({
      tls: true,
      images: { [`${SIM_SERVER_IMAGE.name}:${SIM_SERVER_IMAGE.tag}`]: paperclipImage.layers, [AGENT_IMAGE]: agentImage.layers },
      ...(options.nodes ? { nodes: options.nodes.map((name) => ({ name })) } : {}),
    });
    cleanups.push(() => sim.stop());
    const kubectlEnv = { ...process.env, KUBECONFIG: sim.kubeconfigPath };
    const kubectl = (args: string[], input?: string): Promise<string> => run("kubectl", args, { env: kubectlEnv, ...(input !== undefined ? { input } : {}) });

    const overlayDir = path.join(base, "overlay");
    await mkdir(overlayDir);
    const port = await freePort();
    const config = await simConfig(paperclipImage.home, port, await freePort());
    await writeOverlay(overlayDir, options.overlay, { home: paperclipImage.home, user, port, config });
    // The sim serves no OpenAPI document, which kubectl's client-side validation downloads.
    await kubectl(["apply", "--validate=false", "-k", overlayDir]);

    const service = sim.store.get("services", KIT.namespace, KIT.service);
    const clusterIp = isRecord(service) && isRecord(service.spec) ? service.spec.clusterIP : undefined;
    if (typeof clusterIp !== "string") throw new Error(`Service ${KIT.service} has no ClusterIP`);
    // Through the ClusterIP, named as the Service's DNS name (one of the kit's allowedHostnames) the way a reverse
    // proxy names the host it forwards for: this machine does not resolve cluster names.
    const api = paperclipApi(`http://${clusterIp}:3100`, { "x-forwarded-host": `${KIT.service}.${KIT.namespace}.svc.cluster.local` });

    const serverPods = (): JsonObject[] =>
      sim.store
        .list("pods", { namespace: KIT.namespace })
        .items.filter((pod) => labelsOf(pod)["app.kubernetes.io/component"] === "server" && !(isRecord(pod.metadata) && pod.metadata.deletionTimestamp));
    const serverLog = async (): Promise<string> => {
      const [pod] = serverPods();
      const name = pod && isRecord(pod.metadata) ? String(pod.metadata.name) : "";
      return name ? (await kubectl(["logs", "-n", KIT.namespace, name]).catch((error: unknown) => String(error))).slice(-6000) : "(no Paperclip pod)";
    };
    const waitForServer = async (): Promise<void> => {
      try {
        await kubectl(["rollout", "status", "-n", KIT.namespace, `deployment/${KIT.deployment}`, `--timeout=${READY_TIMEOUT_S}s`]);
        await kubectl(["wait", "-n", KIT.namespace, "pod", "-l", "app.kubernetes.io/component=server", "--for=condition=Ready", `--timeout=${READY_TIMEOUT_S}s`]);
      } catch (error) {
        throw new Error(`Paperclip's pod did not become ready: ${String(error)}\nits log:\n${await serverLog()}`);
      }
    };
    await waitForServer();

    const companyId = await api.createCompany(`Operator topology ${options.overlay} ${Date.now()}`);
    const canI = (asUser: string, verb: string, resource: string): Promise<boolean> =>
      new Promise((resolve, reject) => {
        execFile("kubectl", ["auth", "can-i", verb, resource, "-n", KIT.namespace, `--as=${asUser}`], { env: kubectlEnv }, (error, stdout, stderr) => {
          // kubectl answers "yes" (exit 0) or "no" (exit 1); anything else is a failure of the question itself.
          const answer = stdout.trim();
          if (answer === "yes" && !error) resolve(true);
          else if (answer === "no") resolve(false);
          else reject(new Error(`kubectl auth can-i ${verb} ${resource} answered ${JSON.stringify(answer)}: ${stderr}`));
        });
      });
    return {
      sim,
      api,
      companyId,
      user,
      kubectl,
      canI,
      serverPods,
      ofAgent: (resource, agentId) =>
        sim.store.list(resource, { namespace: KIT.namespace }).items.filter((item) => labelsOf(item)["paperclip.io/agent-id"] === agentId),
      waitForServer,
      serverLog,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
