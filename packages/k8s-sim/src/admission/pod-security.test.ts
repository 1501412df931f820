import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimCluster } from "../cluster.ts";
import { startSimCluster } from "../cluster.ts";
import { eventually } from "../testing/clients.ts";
import { kubectlWith as kubectl } from "../testing/kubectl.ts";
import { describeViolations, podSecurityViolations } from "./pod-security.ts";

// The expected messages are the real admission plugin's, as clusters print them.
const BARE_RESTRICTED =
  'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
  'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
  'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
  'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

const RESTRICTED_CONTEXT = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

function pod(spec: Record<string, unknown>, containers: Record<string, unknown>[] = [{ name: "c", image: "busybox" }]) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers, ...spec } };
}

const message = (level: "baseline" | "restricted", object: Record<string, unknown>) => describeViolations(podSecurityViolations(level, object));

describe("Pod Security Standards, rule by rule", () => {
  it("restricted: a bare pod breaks four rules, named as the plugin names them", () => {
    expect(message("restricted", pod({}))).toBe(BARE_RESTRICTED);
    expect(message("baseline", pod({}))).toBe("");
  });

  it("restricted: a compliant pod (pod-level runAsNonRoot and seccomp, NET_BIND_SERVICE added) passes", () => {
    const compliant = pod(
      { securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } }, volumes: [{ name: "v", emptyDir: {} }, { name: "s", projected: { sources: [] } }] },
      [{ name: "c", image: "busybox", securityContext: { ...RESTRICTED_CONTEXT, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } }],
    );
    expect(podSecurityViolations("restricted", compliant)).toEqual([]);
  });

  it("baseline: host namespaces, privileged, capabilities, hostPath, hostPort, seccomp, procMount, sysctls", () => {
    const bad = pod(
      {
        hostNetwork: true,
        hostPID: true,
        securityContext: { seccompProfile: { type: "Unconfined" }, sysctls: [{ name: "kernel.msgmax", value: "1" }, { name: "net.ipv4.tcp_syncookies", value: "1" }] },
        volumes: [{ name: "host", hostPath: { path: "/etc" } }],
      },
      [
        { name: "a", image: "busybox", securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN", "CHOWN"] } }, ports: [{ containerPort: 80, hostPort: 8080 }] },
        { name: "b", image: "busybox", securityContext: { privileged: true, procMount: "Unmasked" } },
      ],
    );
    expect(message("baseline", bad)).toBe(
      'non-default capabilities (container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add), ' +
        "host namespaces (hostNetwork=true, hostPID=true), " +
        'hostPath volumes (volume "host"), ' +
        'hostPort (container "a" uses hostPort 8080), ' +
        'privileged (containers "a", "b" must not set securityContext.privileged=true), ' +
        'procMount (container "b" must not set securityContext.procMount to "Unmasked"), ' +
        'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined"), ' +
        "forbidden sysctls (kernel.msgmax)",
    );
  });

  it("restricted: baseline rules first, then volume types, root user, capabilities added and explicit opt-outs, plural forms", () => {
    const bad = pod(
      { hostNetwork: true, securityContext: { runAsNonRoot: false, runAsUser: 0 }, volumes: [{ name: "host", hostPath: { path: "/" } }, { name: "n", nfs: { server: "x", path: "/" } }] },
      [
        { name: "a", image: "busybox", securityContext: { ...RESTRICTED_CONTEXT, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] }, seccompProfile: { type: "Unconfined" } } },
        { name: "b", image: "busybox" },
      ],
    );
    expect(message("restricted", bad)).toBe(
      "host namespaces (hostNetwork=true), " +
        'hostPath volumes (volume "host"), ' +
        'allowPrivilegeEscalation != false (container "b" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "b" must set securityContext.capabilities.drop=["ALL"]; container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add), ' +
        'restricted volume types (volumes "host", "n" use restricted volume types "hostPath", "nfs"), ' +
        "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false; pod or containers \"a\", \"b\" must set securityContext.runAsNonRoot=true), " +
        "runAsUser=0 (pod must not set runAsUser=0), " +
        'seccompProfile (container "a" must not set securityContext.seccompProfile.type to "Unconfined"; pod or container "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });
});

describe("Pod Security admission in the API server", () => {
  let cluster: SimCluster;
  const run = (args: string[], stdin?: string) => kubectl(cluster.kubeconfigPath, args, stdin);

  beforeAll(async () => {
    cluster = await startSimCluster();
    const namespaces = [
      ["locked", { "pod-security.kubernetes.io/enforce": "restricted" }],
      ["pinned", { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.30" }],
      ["warned", { "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted" }],
    ] as const;
    for (const [name, labels] of namespaces) cluster.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
    await eventually(() => (namespaces.every(([name]) => cluster.store.get("serviceaccounts", name, "default")) ? true : undefined), 5000, "default service accounts");
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("enforce refuses a pod with the real 403 message (kubectl run), and takes the policy version from its label", async () => {
    const refused = await run(["run", "c", "-n", "locked", "--image=busybox", "--restart=Never", "--command", "--", "true"]);
    expect(refused.stderr).toBe(`Error from server (Forbidden): pods "c" is forbidden: violates PodSecurity "restricted:latest": ${BARE_RESTRICTED}\n`);
    const pinned = await run(["run", "c", "-n", "pinned", "--image=busybox", "--restart=Never", "--command", "--", "true"]);
    expect(pinned.stderr).toContain('violates PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false');
    expect(cluster.store.list("pods").items).toEqual([]);
  });

  it("enforce lets a compliant pod in; baseline enforcement refuses privileged; warn gives kubectl's Warning", async () => {
    const compliant = JSON.stringify({
      ...pod({ securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } } }, [
        { name: "c", image: "busybox", command: ["true"], securityContext: RESTRICTED_CONTEXT },
      ]),
      metadata: { name: "ok", namespace: "locked" },
    });
    expect(await run(["create", "--validate=false", "-f", "-"], compliant)).toMatchObject({ code: 0, stdout: "pod/ok created\n", stderr: "" });
    const warned = await run(["run", "c", "-n", "warned", "--image=busybox", "--restart=Never", "--command", "--", "true"]);
    expect(warned.stdout).toBe("pod/c created\n");
    expect(warned.stderr).toBe(`Warning: would violate PodSecurity "restricted:latest": ${BARE_RESTRICTED}\n`);
    const privileged = await run(["run", "d", "-n", "warned", "--image=busybox", "--restart=Never", "--privileged", "--command", "--", "true"]);
    expect(privileged.stderr).toBe(
      'Error from server (Forbidden): pods "d" is forbidden: violates PodSecurity "baseline:latest": privileged (container "d" must not set securityContext.privileged=true)\n',
    );
  });

  it("a Job's pods are checked too: the Job is created with a warning, its pods are refused with a FailedCreate event", async () => {
    const job = JSON.stringify({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "j", namespace: "locked" },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["true"] }] } } },
    });
    const created = await run(["create", "--validate=false", "-f", "-"], job);
    expect(created.stdout).toBe("job.batch/j created\n");
    expect(created.stderr).toBe(`Warning: would violate PodSecurity "restricted:latest": ${BARE_RESTRICTED}\n`);
    const events = await eventually(async () => {
      const listed = await run(["get", "events", "-n", "locked", "--field-selector", "involvedObject.name=j,reason=FailedCreate", "-o", "jsonpath={.items[*].message}"]);
      return listed.stdout === "" ? undefined : listed.stdout;
    }, 10_000, "the FailedCreate event");
    expect(events).toMatch(new RegExp(`^Error creating: pods "j-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": `));
    expect(events).toContain(BARE_RESTRICTED);
    expect(cluster.store.list("pods", { namespace: "locked" }).items.map((p) => p.metadata.name)).toEqual(["ok"]);
  });
});
