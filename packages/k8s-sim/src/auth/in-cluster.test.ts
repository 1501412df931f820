import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimCluster } from "../cluster.ts";
import { startSimCluster } from "../cluster.ts";
import { eventually } from "../testing/clients.ts";
import { kubectlWith as kubectl } from "../testing/kubectl.ts";

const LIST_PODS_SCRIPT = fileURLToPath(new URL("../testing/in-cluster-list-pods.mjs", import.meta.url));
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

const MANIFEST = `
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: lister, namespace: apps}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: nobody, namespace: apps}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: silent, namespace: apps}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: list-pods, namespace: apps}
rules:
  - {apiGroups: [""], resources: ["pods"], verbs: ["list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lister-lists-pods, namespace: apps}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: list-pods}
subjects:
  - {kind: ServiceAccount, name: lister, namespace: apps}
`;

let cluster: SimCluster;
const run = (args: string[], stdin?: string) => kubectl(cluster.kubeconfigPath, args, stdin);

beforeAll(async () => {
  cluster = await startSimCluster({ acceptAnyImage: true, tls: true });
  const applied = await run(["apply", "--validate=false", "-f", "-"], MANIFEST);
  if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
});
afterAll(async () => {
  await cluster.stop();
});

/** Creates a one-container pod in `apps`, waits for it to end, and returns its log and exit code. */
async function runPod(name: string, command: string[], spec: Record<string, unknown> = {}): Promise<{ log: string; exitCode: number }> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "apps" },
    spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox", command }], ...spec },
  };
  const created = await run(["create", "--validate=false", "-f", "-"], JSON.stringify(pod));
  if (created.code !== 0) throw new Error(`kubectl create failed: ${created.stderr}`);
  const exitCode = await eventually(() => {
    const status = cluster.store.get("pods", "apps", name)?.status as { containerStatuses?: { state?: { terminated?: { exitCode: number } } }[] } | undefined;
    return status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
  }, 20_000, `pod ${name} to finish`);
  return { log: (await run(["logs", "-n", "apps", name])).stdout, exitCode };
}

describe("a pod's service-account credentials", () => {
  it("let client-node's loadFromCluster(), unmodified, list pods over HTTPS as the pod's account", async () => {
    const { log, exitCode } = await runPod("lists", [process.execPath, LIST_PODS_SCRIPT], { serviceAccountName: "lister" });
    expect(log).toBe(`server ${cluster.httpsUrl}\npods lists\n`);
    expect(exitCode).toBe(0);
  });

  it("are the projected token, ca.crt and namespace files, and KUBERNETES_SERVICE_HOST/PORT point at the HTTPS listener", async () => {
    const script = `ls ${SA_DIR}; cat ${SA_DIR}/namespace; echo; echo "$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; cat ${SA_DIR}/ca.crt`;
    const { log } = await runPod("looks", ["sh", "-c", script]);
    expect(log).toBe(`ca.crt\nnamespace\ntoken\napps\n${new URL(cluster.httpsUrl).host}\n${cluster.caCertPem}`);
    const volumes = cluster.store.get("pods", "apps", "looks")?.spec as { volumes?: { name: string }[]; serviceAccountName?: string } | undefined;
    expect(volumes?.serviceAccountName).toBe("default");
    expect(volumes?.volumes?.map((v) => v.name)).toEqual([expect.stringMatching(/^kube-api-access-[a-z0-9]{5}$/)]);
  });

  it("authenticate as the account, so RBAC refuses what its roles do not grant", async () => {
    const { log, exitCode } = await runPod("refused", [process.execPath, LIST_PODS_SCRIPT], { serviceAccountName: "nobody" });
    expect(log).toBe('refused 403 pods is forbidden: User "system:serviceaccount:apps:nobody" cannot list resource "pods" in API group "" in the namespace "apps"\n');
    expect(exitCode).toBe(3);
  });

  it("are not mounted with automountServiceAccountToken: false on the pod or on its account", async () => {
    const script = `test -e ${SA_DIR}/token && echo token || echo no token`;
    expect((await runPod("optout", ["sh", "-c", script], { automountServiceAccountToken: false })).log).toBe("no token\n");
    expect((await runPod("silent", ["sh", "-c", script], { serviceAccountName: "silent" })).log).toBe("no token\n");
    // The pod's own choice wins over the account's.
    expect((await runPod("optin", ["sh", "-c", script], { serviceAccountName: "silent", automountServiceAccountToken: true })).log).toBe("token\n");
  });

  it("need the account to exist: a pod naming a missing one is refused as the admission plugin does", async () => {
    const refused = await run(["run", "ghostly", "-n", "apps", "--image=busybox", "--restart=Never", "--overrides", '{"spec":{"serviceAccountName":"ghost"}}', "--command", "--", "true"]);
    expect(refused.stderr).toBe('Error from server (Forbidden): pods "ghostly" is forbidden: error looking up service account apps/ghost: serviceaccount "ghost" not found\n');
  });
});
