/**
 * What an adapter that lives in the Paperclip server's pod expects of its surroundings (`--adapter-module`): the
 * older claude adapter reads its own pod (named by HOSTNAME) for the image and the shared claim mounted at
 * /paperclip, runs its Jobs' pods with the same claim at /paperclip, tails the pod's output from there, and stages the
 * prompt with a shell image's init container. The sim side gives it that pod, that image and a namespace that admits
 * its pods (they set no seccompProfile, so the restricted Pod Security Standard refuses them); the bench side mounts
 * the shared claim at /paperclip in a private mount namespace and creates each run's log directory as Paperclip does.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import path from "node:path";
import type { ConformanceCluster } from "paperclip-k8s-runtime/testing";

/** The server pod's name and where its container mounts the shared claim (the older adapter's fixed path). */
const SERVER_POD_NAME = "paperclip-server";
const SERVER_VOLUME_PATH = "/paperclip";
/** The older adapter's init container image; the host's /usr/bin stands in for it (sh, printf, cp, cat). */
const SHELL_IMAGE = "busybox:1.36";
const SHELL_IMAGE_DIR = "/usr/bin";
const ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** Sim side: the server pod, the shell image, an admitting namespace; returns the server env of that pod's process. */
export async function prepareServerPod(cluster: ConformanceCluster): Promise<Record<string, string>> {
  const { sim, namespace } = cluster;
  sim.store.mutate("namespaces", undefined, namespace, (object) => {
    const labels = Object.entries(object.metadata?.labels ?? {}).filter(([name]) => name !== ENFORCE_LABEL);
    object.metadata = { ...object.metadata, labels: Object.fromEntries(labels) };
  });
  sim.registerImage(SHELL_IMAGE, SHELL_IMAGE_DIR);
  // Through the API server, so the pod gets its defaults as a real one would; its container only sleeps (the server
  // is the bench process), but it holds the claim mounted where the adapter looks for it.
  const token = sim.kubeconfig.users[0]?.user.token;
  const response = await fetch(`${sim.url}/api/v1/namespaces/${namespace}/pods`, {
    method: "POST",
    headers: { authorization: `Bearer ${token ?? ""}`, "content-type": "application/json" },
    body: JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: SERVER_POD_NAME, namespace, labels: { "app.kubernetes.io/name": "paperclip" } },
      spec: {
        restartPolicy: "Never",
        containers: [{ name: "paperclip", image: cluster.image, command: ["sleep", "infinity"], volumeMounts: [{ name: "data", mountPath: SERVER_VOLUME_PATH }] }],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: cluster.claimName } }],
      },
    }),
  });
  if (!response.ok) throw new Error(`creating the server pod failed: ${response.status} ${await response.text()}`);
  return { HOSTNAME: SERVER_POD_NAME, PAPERCLIP_NAMESPACE: namespace, PAPERCLIP_HOME: SERVER_VOLUME_PATH, PAPERCLIP_INSTANCE_ID: "default" };
}

/** Set in the re-run bench: it is in a mount namespace of its own. */
const OWN_MOUNT_NAMESPACE_ENV = "PAPERCLIP_BENCH_OWN_MOUNT_NAMESPACE";

/**
 * Bench side: runs this same bench again in a private mount namespace (root only), so that mounting the shared claim
 * at /paperclip touches no other process; resolves with its exit code, or null when this already is that run.
 */
export async function rerunInOwnMountNamespace(): Promise<number | null> {
  if (process.env[OWN_MOUNT_NAMESPACE_ENV] === "1") return null;
  const child = spawn("/usr/bin/unshare", ["--mount", "--propagation", "private", "--", process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, [OWN_MOUNT_NAMESPACE_ENV]: "1" },
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

/** Bench side: the shared claim at /paperclip, as the server pod mounts it (its sim pods and this process share the view). */
export function mountSharedVolume(sharedRoot: string): void {
  mkdirSync(SERVER_VOLUME_PATH, { recursive: true });
  execFileSync("mount", ["--bind", sharedRoot, SERVER_VOLUME_PATH]);
}

/**
 * Bench side: the run's log directory, which Paperclip's run-log store creates before `execute()`; the older adapter's
 * pods write their output beside it. Writable by the agent's user, as by the server's user in production (the same).
 */
export async function prepareRunLogDir(companyId: string, agentId: string): Promise<void> {
  const dir = path.join(SERVER_VOLUME_PATH, "instances", "default", "data", "run-logs", companyId, agentId);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777);
}
