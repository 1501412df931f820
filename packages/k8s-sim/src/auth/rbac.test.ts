import { writeFileSync } from "node:fs";
import path from "node:path";
import { AuthorizationV1Api, BatchV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimCluster } from "../cluster.ts";
import { startSimCluster } from "../cluster.ts";
import { apiError } from "../testing/clients.ts";
import { kubectlWith as kubectl } from "../testing/kubectl.ts";

let cluster: SimCluster;
/** The admin kubeconfig for the HTTPS listener (kubectl verifies the CA). */
let adminKubeconfig: string;
let runnerToken: string;
let outsiderToken: string;

const MANIFEST = `
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: runner, namespace: team}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: outsider, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team}
rules:
  - apiGroups: [""]
    resources: ["pods", "pods/log"]
    verbs: ["get", "list", "watch"]
  - apiGroups: ["batch"]
    resources: ["jobs/status"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["allowed-cm"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["configmaps"]
    verbs: ["deletecollection"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner-reads, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
  - {kind: ServiceAccount, name: runner, namespace: team}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything-reader}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: team-reads-other, namespace: other}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything-reader}
subjects:
  - {kind: Group, name: "system:serviceaccounts:team", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-lister}
rules:
  - apiGroups: [""]
    resources: ["nodes"]
    verbs: ["list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: jane-lists-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-lister}
subjects:
  - {kind: User, name: jane, apiGroup: rbac.authorization.k8s.io}
`;

beforeAll(async () => {
  cluster = await startSimCluster();
  adminKubeconfig = path.join(cluster.rootDir, "https-kubeconfig.json");
  writeFileSync(adminKubeconfig, JSON.stringify(cluster.httpsKubeconfig));
  const applied = await kubectl(adminKubeconfig, ["apply", "--validate=false", "-f", "-"], MANIFEST);
  if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
  const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "team", labels: { app: "x" } } });
  for (const name of ["allowed-cm", "other-cm"]) cluster.store.create("configmaps", configMap(name));
  runnerToken = cluster.serviceAccountToken("team", "runner");
  outsiderToken = cluster.serviceAccountToken("other", "outsider");
});
afterAll(async () => {
  await cluster.stop();
});

const RUNNER = "system:serviceaccount:team:runner";

/** A raw request on the plain-HTTP listener with a bearer token: the status code and Status body. */
async function call(method: string, urlPath: string, token: string): Promise<{ status: number; message: string }> {
  const response = await fetch(`${cluster.url}${urlPath}`, { method, headers: { Authorization: `Bearer ${token}` } });
  // A watch answers with a stream of events, not one Status.
  const text = await response.text();
  const body: unknown = response.headers.get("content-type") === "application/json" && text.startsWith("{") ? JSON.parse(text.split("\n")[0] ?? "") : undefined;
  const message = typeof body === "object" && body !== null && "message" in body ? String(body.message) : "";
  return { status: response.status, message };
}

function clientsFor(token: string) {
  const config = {
    ...cluster.httpsKubeconfig,
    users: cluster.httpsKubeconfig.users.map((user) => ({ name: user.name, user: { token } })),
  };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(JSON.stringify(config));
  return { core: kubeConfig.makeApiClient(CoreV1Api), batch: kubeConfig.makeApiClient(BatchV1Api), authz: kubeConfig.makeApiClient(AuthorizationV1Api) };
}

describe("RBAC objects", () => {
  it("are stored and served: kubectl apply created them and kubectl get lists them with the bootstrap roles", async () => {
    const listed = await kubectl(adminKubeconfig, ["get", "roles,rolebindings", "-n", "team", "-o", "name"]);
    expect(listed.stdout).toBe("role.rbac.authorization.k8s.io/pod-reader\nrolebinding.rbac.authorization.k8s.io/runner-reads\n");
    const clusterRoles = await kubectl(adminKubeconfig, ["get", "clusterroles", "-o", "name"]);
    for (const name of ["cluster-admin", "system:discovery", "everything-reader", "node-lister"]) expect(clusterRoles.stdout).toContain(`clusterrole.rbac.authorization.k8s.io/${name}\n`);
    expect((await kubectl(adminKubeconfig, ["get", "sa", "-n", "team", "-o", "name"])).stdout).toBe("serviceaccount/default\nserviceaccount/runner\n");
  });

  it("refuses a binding whose roleRef is not a role kind, and a roleRef change", async () => {
    const bad = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bad, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Secret, name: x}
`;
    const refused = await kubectl(adminKubeconfig, ["create", "--validate=false", "-f", "-"], bad);
    expect(refused.stderr).toContain('The RoleBinding "bad" is invalid: roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"');
    const changed = await kubectl(adminKubeconfig, ["patch", "rolebinding", "runner-reads", "-n", "team", "--type=merge", "-p", '{"roleRef":{"name":"other"}}']);
    expect(changed.stderr).toContain("cannot change roleRef");
  });
});

describe("requests with a service-account token", () => {
  it("are allowed what the Role grants and refused the rest with the real 403 message (kubectl)", async () => {
    const token = `--token=${runnerToken}`;
    expect(await kubectl(adminKubeconfig, ["get", "pods", "-n", "team", token])).toMatchObject({ code: 0, stderr: "No resources found in team namespace.\n" });
    expect((await kubectl(adminKubeconfig, ["delete", "pod", "x", "-n", "team", token])).stderr).toBe(
      `Error from server (Forbidden): pods "x" is forbidden: User "${RUNNER}" cannot delete resource "pods" in API group "" in the namespace "team"\n`,
    );
    expect((await kubectl(adminKubeconfig, ["get", "nodes", token])).stderr).toBe(
      `Error from server (Forbidden): nodes is forbidden: User "${RUNNER}" cannot list resource "nodes" in API group "" at the cluster scope\n`,
    );
    // kubectl logs reads the pod first: the outsider is stopped there already.
    expect((await kubectl(adminKubeconfig, ["logs", "p", "-n", "team", `--token=${outsiderToken}`])).stderr).toBe(
      `Error from server (Forbidden): pods "p" is forbidden: User "system:serviceaccount:other:outsider" cannot get resource "pods" in API group "" in the namespace "team"\n`,
    );
    expect((await call("GET", "/api/v1/namespaces/team/pods/p/log", outsiderToken)).message).toBe(
      `pods "p" is forbidden: User "system:serviceaccount:other:outsider" cannot get resource "pods/log" in API group "" in the namespace "team"`,
    );
    // Allowed to read logs: the request gets past authorization to the missing pod.
    expect((await kubectl(adminKubeconfig, ["logs", "p", "-n", "team", token])).stderr).toBe('error: error from server (NotFound): pods "p" not found in namespace "team"\n');
  });

  it("match subresources, resourceNames, verbs (watch, deletecollection), wildcards and Group subjects", async () => {
    const { batch, core } = clientsFor(runnerToken);
    // jobs/status is granted, jobs is not.
    expect((await apiError(batch.readNamespacedJobStatus({ name: "j", namespace: "team" }))).code).toBe(404);
    expect((await apiError(batch.readNamespacedJob({ name: "j", namespace: "team" }))).body.message).toBe(
      `jobs.batch "j" is forbidden: User "${RUNNER}" cannot get resource "jobs" in API group "batch" in the namespace "team"`,
    );
    // resourceNames: only that ConfigMap, and no list.
    expect((await core.readNamespacedConfigMap({ name: "allowed-cm", namespace: "team" })).metadata?.name).toBe("allowed-cm");
    expect((await apiError(core.readNamespacedConfigMap({ name: "other-cm", namespace: "team" }))).code).toBe(403);
    expect((await apiError(core.listNamespacedConfigMap({ namespace: "team" }))).code).toBe(403);
    expect(await call("GET", "/api/v1/namespaces/team/pods?watch=true&timeoutSeconds=1", runnerToken)).toMatchObject({ status: 200 });
    expect(await call("GET", "/api/v1/namespaces/team/configmaps?watch=true", runnerToken)).toEqual({
      status: 403,
      message: `configmaps is forbidden: User "${RUNNER}" cannot watch resource "configmaps" in API group "" in the namespace "team"`,
    });
    expect((await call("DELETE", "/api/v1/namespaces/team/configmaps?labelSelector=app%3Dnone", runnerToken)).status).toBe(200);
    expect((await call("DELETE", "/api/v1/namespaces/team/pods", runnerToken)).message).toBe(
      `pods is forbidden: User "${RUNNER}" cannot deletecollection resource "pods" in API group "" in the namespace "team"`,
    );
    // The ClusterRole (apiGroups and resources "*") bound by a RoleBinding to the team's SA group: in "other" only.
    expect((await batch.listNamespacedJob({ namespace: "other" })).items).toEqual([]);
    expect((await core.listNamespacedSecret({ namespace: "other" })).items).toEqual([]);
    expect((await apiError(core.deleteNamespacedSecret({ name: "s", namespace: "other" }))).code).toBe(403);
    expect((await apiError(core.listNamespacedSecret({ namespace: "team" }))).code).toBe(403);
  });

  it("authenticate only while the service account exists (a re-created one has another uid)", async () => {
    cluster.store.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "shortlived", namespace: "team" } });
    const token = cluster.serviceAccountToken("team", "shortlived");
    expect((await call("GET", "/api/v1/namespaces/team/pods", token)).status).toBe(403);
    cluster.store.remove("serviceaccounts", "team", "shortlived");
    cluster.store.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "shortlived", namespace: "team" } });
    expect(await call("GET", "/api/v1/namespaces/team/pods", token)).toEqual({ status: 401, message: "Unauthorized" });
  });

  it("come from kubectl create token too (TokenRequest): for the API audience only, at least 10 minutes", async () => {
    const created = await kubectl(adminKubeconfig, ["create", "token", "runner", "-n", "team"]);
    expect(created.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await call("GET", "/api/v1/namespaces/team/pods", created.stdout.trim())).status).toBe(200);
    const otherAudience = await kubectl(adminKubeconfig, ["create", "token", "runner", "-n", "team", "--audience=vault"]);
    expect(await call("GET", "/api/v1/namespaces/team/pods", otherAudience.stdout.trim())).toEqual({ status: 401, message: "Unauthorized" });
    expect((await kubectl(adminKubeconfig, ["create", "token", "runner", "-n", "team", "--duration=5m"])).stderr).toBe(
      'error: failed to create token: TokenRequest.authentication.k8s.io "runner" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes\n',
    );
    // A token bound to a pod dies with the pod.
    cluster.store.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "holder", namespace: "team" }, spec: { containers: [] } });
    const bound = await kubectl(adminKubeconfig, ["create", "token", "runner", "-n", "team", "--bound-object-kind=Pod", "--bound-object-name=holder"]);
    expect((await call("GET", "/api/v1/namespaces/team/pods", bound.stdout.trim())).status).toBe(200);
    cluster.store.remove("pods", "team", "holder");
    expect((await call("GET", "/api/v1/namespaces/team/pods", bound.stdout.trim())).status).toBe(401);
    expect((await kubectl(adminKubeconfig, ["create", "token", "ghost", "-n", "team"])).stderr).toBe('error: failed to create token: serviceaccounts "ghost" not found\n');
    expect((await kubectl(adminKubeconfig, ["create", "token", "runner", "-n", "team", `--token=${runnerToken}`])).stderr).toBe(
      `error: failed to create token: serviceaccounts "runner" is forbidden: User "${RUNNER}" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team"\n`,
    );
  });

  it("without credentials on the plain-HTTP listener, a request is the admin (the lab's insecure port)", async () => {
    const response = await fetch(`${cluster.url}/api/v1/nodes`);
    expect(response.status).toBe(200);
  });
});

describe("User subjects and impersonation", () => {
  it("kubectl --as=jane gets what jane's ClusterRoleBinding grants; a service account may not impersonate", async () => {
    expect((await kubectl(adminKubeconfig, ["get", "nodes", "--as=jane", "-o", "name"])).stdout).toBe("node/sim-node-1\n");
    expect((await kubectl(adminKubeconfig, ["get", "pods", "--as=jane"])).stderr).toBe(
      'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"\n',
    );
    // --as-group: the groups' grants apply (system:masters is never refused).
    expect((await kubectl(adminKubeconfig, ["auth", "can-i", "delete", "nodes", "--as=jane"])).stdout).toBe("no\n");
    expect((await kubectl(adminKubeconfig, ["auth", "can-i", "delete", "nodes", "--as=jane", "--as-group=system:masters"])).stdout).toBe("yes\n");
    expect((await kubectl(adminKubeconfig, ["get", "nodes", "--as=jane", `--token=${runnerToken}`])).stderr).toBe(
      `Error from server (Forbidden): users "jane" is forbidden: User "${RUNNER}" cannot impersonate resource "users" in API group "" at the cluster scope\n`,
    );
  });
});

describe("access reviews", () => {
  it("kubectl auth whoami names the user and groups a credential authenticates as", async () => {
    expect((await kubectl(adminKubeconfig, ["auth", "whoami", "-o", "jsonpath={.status.userInfo}"])).stdout).toBe(
      '{"groups":["system:masters","system:authenticated"],"username":"kubernetes-admin"}',
    );
    expect((await kubectl(adminKubeconfig, ["auth", "whoami", `--token=${runnerToken}`, "-o", "jsonpath={.status.userInfo}"])).stdout).toBe(
      `{"groups":["system:serviceaccounts","system:serviceaccounts:team","system:authenticated"],"username":"${RUNNER}"}`,
    );
    expect((await kubectl(adminKubeconfig, ["auth", "whoami", "--as=jane", "--as-group=devs", "--as-group=ops", "-o", "jsonpath={.status.userInfo}"])).stdout).toBe(
      '{"groups":["devs","ops","system:authenticated"],"username":"jane"}',
    );
  });

  it("kubectl auth can-i --as=<service account> agrees with what the API enforces for that account", async () => {
    const cases: { canI: string[]; request: [string, string] }[] = [
      { canI: ["list", "pods", "-n", "team"], request: ["GET", "/api/v1/namespaces/team/pods"] },
      { canI: ["delete", "pods/x", "-n", "team"], request: ["DELETE", "/api/v1/namespaces/team/pods/x"] },
      { canI: ["get", "pods/p", "--subresource=log", "-n", "team"], request: ["GET", "/api/v1/namespaces/team/pods/p/log"] },
      { canI: ["get", "jobs.batch/j", "--subresource=status", "-n", "team"], request: ["GET", "/apis/batch/v1/namespaces/team/jobs/j/status"] },
      { canI: ["get", "jobs.batch/j", "-n", "team"], request: ["GET", "/apis/batch/v1/namespaces/team/jobs/j"] },
      { canI: ["get", "configmaps/allowed-cm", "-n", "team"], request: ["GET", "/api/v1/namespaces/team/configmaps/allowed-cm"] },
      { canI: ["get", "configmaps/other-cm", "-n", "team"], request: ["GET", "/api/v1/namespaces/team/configmaps/other-cm"] },
      { canI: ["list", "secrets", "-n", "other"], request: ["GET", "/api/v1/namespaces/other/secrets"] },
      { canI: ["list", "nodes"], request: ["GET", "/api/v1/nodes"] },
    ];
    for (const { canI, request } of cases) {
      const answer = await kubectl(adminKubeconfig, ["auth", "can-i", ...canI, `--as=${RUNNER}`]);
      const enforced = await call(request[0], request[1], runnerToken);
      expect({ canI, answer: answer.stdout.trim() }).toEqual({ canI, answer: enforced.status === 403 ? "no" : "yes" });
    }
    expect((await kubectl(adminKubeconfig, ["auth", "can-i", "delete", "nodes"])).stdout).toBe("yes\n");
  });

  it("kubectl auth can-i --list lists the rules RBAC grants the account in the namespace", async () => {
    const listed = await kubectl(adminKubeconfig, ["auth", "can-i", "--list", "-n", "team", `--as=${RUNNER}`]);
    const rows = listed.stdout.split("\n").map((line) => line.trim().split(/\s{2,}/));
    expect(rows).toContainEqual(["pods", "[]", "[]", "[get list watch]"]);
    expect(rows).toContainEqual(["pods/log", "[]", "[]", "[get list watch]"]);
    expect(rows).toContainEqual(["jobs.batch/status", "[]", "[]", "[get]"]);
    expect(rows).toContainEqual(["configmaps", "[]", "[allowed-cm]", "[get]"]);
    expect(rows).toContainEqual(["configmaps", "[]", "[]", "[deletecollection]"]);
    expect(rows.some((row) => row[0] === "nodes" || row[0] === "*.*")).toBe(false);
  });

  it("SelfSubjectAccessReview answers truthfully for the caller, with RBAC's reason", async () => {
    const { authz } = clientsFor(runnerToken);
    const allowed = await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: "get", resource: "pods", subresource: "log", namespace: "team" } } },
    });
    expect(allowed.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "runner-reads/team" of Role "pod-reader" to ServiceAccount "runner/team"',
    });
    const denied = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: "create", group: "batch", resource: "jobs", namespace: "team" } } } });
    expect(denied.status?.allowed).toBe(false);
    const discovery = await authz.createSelfSubjectAccessReview({ body: { spec: { nonResourceAttributes: { verb: "get", path: "/apis/batch" } } } });
    expect(discovery.status?.allowed).toBe(true);
    expect((await apiError(authz.createSelfSubjectAccessReview({ body: { spec: {} } }))).body.message).toContain(
      "exactly one of nonResourceAttributes or resourceAttributes must be specified",
    );
  });
});
