import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { numberAt, objectAt } from "./api/json.ts";
import type { V1Container, V1DeploymentStrategy } from "@kubernetes/client-node";
import { AppsV1Api, DiscoveryV1Api, NetworkingV1Api, PolicyV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "./testing/clients.ts";
import { apiError, eventually, startSimWithClients } from "./testing/clients.ts";
import type { KubectlResult } from "./testing/kubectl.ts";
import { kubectlWith } from "./testing/kubectl.ts";

// The web image is the directory of the node binary running these tests, so `node` is on the pod's PATH.
const WEB_IMAGE = "example.com/web:1";
let sim: SimClients;
let hostDir: string;

beforeAll(async () => {
  hostDir = mkdtempSync(path.join("/tmp", "k8s-sim-workloads-"));
  sim = await startSimWithClients({
    acceptAnyImage: true,
    images: { [WEB_IMAGE]: path.dirname(process.execPath) },
    nodes: [{ name: "n1", labels: { disk: "ssd" } }, { name: "n2" }],
  });
});
afterAll(async () => {
  await sim.cluster.stop();
  rmSync(hostDir, { recursive: true, force: true });
});

function kubectl(...args: string[]): Promise<KubectlResult> {
  return kubectlWith(sim.cluster.kubeconfigPath, args);
}

/** `kubectl apply -f -` of the given objects (JSON is YAML). */
async function apply(...objects: object[]): Promise<string> {
  const result = await kubectlWith(sim.cluster.kubeconfigPath, ["apply", "--validate=false", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  expect(result.stderr).toBe("");
  return result.stdout;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A node HTTP server answering `hello from <pod name>` on the named container port `http`, Ready once it answers. */
function webContainer(port: number): V1Container {
  const server = `require("http").createServer((q, s) => s.end("hello from " + process.env.HOSTNAME)).listen(${port})`;
  return {
    name: "web",
    image: WEB_IMAGE,
    command: ["node", "-e", server],
    ports: [{ name: "http", containerPort: port }],
    readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 1 },
  };
}

function deploymentOf(name: string, container: V1Container, strategy: V1DeploymentStrategy, replicas = 1, labels: Record<string, string> = { app: name }) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      strategy,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [container] } },
    },
  };
}

function podNames(selector: string): string[] {
  return sim.cluster.store
    .list("pods", { namespace: "default", filter: (pod) => pod.metadata.labels?.app === selector && !pod.metadata.deletionTimestamp })
    .items.map((pod) => pod.metadata.name ?? "");
}

describe("Deployments and Services through kubectl", () => {
  it("rolls out, serves through the Service's DNS name and env vars, replaces a deleted pod, and makes a new ReplicaSet for a new template", async () => {
    const port = await freePort();
    expect(
      await apply(deploymentOf("web", webContainer(port), { type: "Recreate" }), {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
      }),
    ).toBe("deployment.apps/web created\nservice/web created\n");
    expect((await kubectl("rollout", "status", "deployment/web", "--timeout=60s")).stdout).toContain('deployment "web" successfully rolled out');

    const [first] = podNames("web");
    const boundTo = String((await kubectl("get", "pod", first ?? "", "-o", "jsonpath={.spec.nodeName}")).stdout);
    expect(["n1", "n2"]).toContain(boundTo);
    const wide = (await kubectl("get", "pods", "-l", "app=web", "-o", "wide")).stdout;
    expect(wide).toMatch(new RegExp(`${first}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+\\S+\\s+${boundTo}`));

    const podIp = (await kubectl("get", "pod", first ?? "", "-o", "jsonpath={.status.podIP}")).stdout;
    const endpoints = await eventually(async () => {
      const line = /Endpoints:\s+(\S+)/.exec((await kubectl("describe", "service", "web")).stdout)?.[1];
      return line === "<none>" ? undefined : line;
    }, 30_000, "the Service's endpoints");
    expect(endpoints).toBe(`${podIp}:${port}`);

    // A client pod reaches the Service by its DNS name; its env carries the Service's address.
    const clusterIp = (await kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")).stdout;
    const client = 'fetch("http://web.default.svc.cluster.local/").then(r => r.text()).then(t => console.log(process.env.WEB_SERVICE_HOST + ":" + process.env.WEB_SERVICE_PORT + " " + t))';
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "client" },
      spec: { restartPolicy: "Never", containers: [{ name: "main", image: WEB_IMAGE, command: ["node", "-e", client] }] },
    });
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "unlinked" },
      spec: { restartPolicy: "Never", enableServiceLinks: false, containers: [{ name: "main", image: WEB_IMAGE, command: ["node", "-e", client] }] },
    });
    await kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/client", "pod/unlinked", "--timeout=60s");
    expect((await kubectl("logs", "client")).stdout).toBe(`${clusterIp}:80 hello from ${first}\n`);
    // Without service links the variables are missing; the DNS name still resolves.
    expect((await kubectl("logs", "unlinked")).stdout).toBe(`undefined:undefined hello from ${first}\n`);

    // A deleted pod is replaced by the ReplicaSet.
    expect((await kubectl("delete", "pod", first ?? "", "--wait=false")).code).toBe(0);
    const replacement = await eventually(() => podNames("web").find((name) => name !== first), 30_000, "a replacement pod");
    expect(replacement).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}$/);
    expect((await kubectl("rollout", "status", "deployment/web", "--timeout=60s")).code).toBe(0);

    // A new template (kubectl rollout restart annotates it) makes a second ReplicaSet; Recreate takes the old one to 0.
    expect((await kubectl("rollout", "restart", "deployment/web")).stdout).toBe("deployment.apps/web restarted\n");
    expect((await kubectl("rollout", "status", "deployment/web", "--timeout=60s")).stdout).toContain("successfully rolled out");
    const replicaSets = (await kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}={.spec.replicas}/{.status.readyReplicas} {end}")).stdout;
    expect(replicaSets.trim().split(" ").sort()).toEqual(["1=0/", "2=1/1"]);
    expect((await kubectl("rollout", "history", "deployment/web")).stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const described = (await kubectl("describe", "deployment", "web")).stdout;
    expect(described).toMatch(/Available\s+True\s+MinimumReplicasAvailable/);
    expect(described).toMatch(/Progressing\s+True\s+NewReplicaSetAvailable/);
  });

  it("RollingUpdate surges one new pod at a time and never drops below the desired availability (maxUnavailable 0)", async () => {
    const strategy: V1DeploymentStrategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const sleeper: V1Container = { name: "main", image: "busybox", command: ["sh", "-c", "sleep 3600"], readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 } };
    await apply(deploymentOf("roll", sleeper, strategy, 2));
    expect((await kubectl("rollout", "status", "deployment/roll", "--timeout=60s")).code).toBe(0);

    const available: number[] = [];
    const unsubscribe = sim.cluster.store.subscribe("deployments", (event) => {
      if (event.object.metadata.name === "roll") available.push(numberAt(objectAt(event.object, "status"), "availableReplicas") ?? 0);
    });
    try {
      await kubectl("rollout", "restart", "deployment/roll");
      expect((await kubectl("rollout", "status", "deployment/roll", "--timeout=60s")).code).toBe(0);
    } finally {
      unsubscribe();
    }
    expect(Math.min(...available)).toBe(2);
    const events = await kubectl("get", "events", "--field-selector", "involvedObject.name=roll,reason=ScalingReplicaSet", "-o", "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}");
    const scaling = events.stdout.trim().split("\n").map((message) => message.replace(/roll-[a-z0-9]+/, "RS"));
    expect(scaling).toEqual([
      "Scaled up replica set RS from 0 to 2",
      "Scaled up replica set RS from 0 to 1",
      "Scaled down replica set RS from 2 to 1",
      "Scaled up replica set RS from 1 to 2",
      "Scaled down replica set RS from 1 to 0",
    ]);
  });

  it("kubectl set env, apply of a changed container and rollout undo change one container field and keep the rest (strategic merge)", async () => {
    const sleeper: V1Container = { name: "main", image: "busybox", command: ["sh", "-c", "sleep 3600"] };
    await apply(deploymentOf("edited", sleeper, { type: "Recreate" }));
    expect((await kubectl("rollout", "status", "deployment/edited", "--timeout=60s")).code).toBe(0);
    expect((await kubectl("set", "env", "deployment/edited", "GREETING=hi")).stdout).toBe("deployment.apps/edited env updated\n");
    expect((await kubectl("rollout", "status", "deployment/edited", "--timeout=60s")).code).toBe(0);
    const container = "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].command[2]} {.spec.template.spec.containers[0].env[0].value}";
    expect((await kubectl("get", "deployment", "edited", "-o", container)).stdout).toBe("busybox sleep 3600 hi");

    await apply(deploymentOf("edited", { ...sleeper, command: ["sh", "-c", "sleep 3601"] }, { type: "Recreate" }));
    expect((await kubectl("rollout", "status", "deployment/edited", "--timeout=60s")).code).toBe(0);
    expect((await kubectl("get", "deployment", "edited", "-o", container)).stdout).toBe("busybox sleep 3601 hi");

    // Undo brings back revision 2's template, and with it that ReplicaSet (now revision 4): no new one.
    expect((await kubectl("rollout", "undo", "deployment/edited")).stdout).toBe("deployment.apps/edited rolled back\n");
    expect((await kubectl("rollout", "status", "deployment/edited", "--timeout=60s")).code).toBe(0);
    expect((await kubectl("get", "deployment", "edited", "-o", container)).stdout).toBe("busybox sleep 3600 hi");
    const revisions = (await kubectl("get", "rs", "-l", "app=edited", "-o", "jsonpath={range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}={.spec.replicas} {end}")).stdout;
    expect(revisions.trim().split(" ").sort()).toEqual(["1=0", "3=0", "4=1"]);
  });

  it("kubectl scale goes through the scale subresource to the ReplicaSet's pods", async () => {
    const sleeper: V1Container = { name: "main", image: "busybox", command: ["sh", "-c", "sleep 3600"] };
    await apply(deploymentOf("scaled", sleeper, { type: "RollingUpdate" }));
    expect((await kubectl("scale", "deployment/scaled", "--replicas=3")).stdout).toBe("deployment.apps/scaled scaled\n");
    expect((await kubectl("rollout", "status", "deployment/scaled", "--timeout=60s")).code).toBe(0);
    expect(podNames("scaled")).toHaveLength(3);
    expect(JSON.parse((await kubectl("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/scaled/scale")).stdout)).toMatchObject({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      spec: { replicas: 3 },
      status: { replicas: 3, selector: "app=scaled" },
    });
    await kubectl("scale", "deployment/scaled", "--replicas=0");
    await eventually(() => (podNames("scaled").length === 0 ? true : undefined), 30_000, "the pods to go");
    expect((await kubectl("get", "rs", "-l", "app=scaled", "-o", "jsonpath={.items[0].spec.replicas}")).stdout).toBe("0");
  });

  it("a rollout that stops moving for progressDeadlineSeconds is reported as ProgressDeadlineExceeded, and kubectl rollout status gives up", async () => {
    const neverReady: V1Container = { name: "main", image: "busybox", command: ["sh", "-c", "sleep 3600"], readinessProbe: { exec: { command: ["false"] }, periodSeconds: 1 } };
    const deployment = deploymentOf("stuck", neverReady, { type: "Recreate" });
    await apply({ ...deployment, spec: { ...deployment.spec, progressDeadlineSeconds: 1 } });
    const status = await kubectl("rollout", "status", "deployment/stuck", "--timeout=60s");
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain('error: deployment "stuck" exceeded its progress deadline');
    expect((await kubectl("describe", "deployment", "stuck")).stdout).toMatch(/Progressing\s+False\s+ProgressDeadlineExceeded/);
  });

  it("refuses a Deployment whose selector does not select its template's labels", async () => {
    const deployment = deploymentOf("bad", webContainer(1), { type: "Recreate" }, 1, { app: "other" });
    const result = await kubectlWith(sim.cluster.kubeconfigPath, ["create", "--validate=false", "-f", "-"], JSON.stringify(deployment));
    expect(result.stderr).toContain('The Deployment "bad" is invalid: spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`');
  });
});

describe("probes", () => {
  it("an exec readiness probe keeps the pod unready until it passes; a failing exec liveness probe restarts the container", async () => {
    const flags = mkdtempSync(path.join(hostDir, "flags-"));
    writeFileSync(path.join(flags, "alive"), "");
    await apply({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "probed" },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: "flags", hostPath: { path: flags } }],
        containers: [
          {
            name: "main",
            image: "busybox",
            command: ["sh", "-c", "sleep 3600"],
            volumeMounts: [{ name: "flags", mountPath: "/flags" }],
            readinessProbe: { exec: { command: ["test", "-f", "/flags/ready"] }, periodSeconds: 1 },
            livenessProbe: { exec: { command: ["test", "-f", "/flags/alive"] }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      },
    });
    const unhealthy = await eventually(async () => {
      const described = (await kubectl("describe", "pod", "probed")).stdout;
      return described.includes("Readiness probe failed") ? described : undefined;
    }, 30_000, "a failed readiness probe");
    expect(unhealthy).toMatch(/Warning\s+Unhealthy\s+\S+\s+kubelet\s+Readiness probe failed/);
    expect((await kubectl("get", "pod", "probed", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].ready}")).stdout).toBe("Running false");

    writeFileSync(path.join(flags, "ready"), "");
    expect((await kubectl("wait", "--for=condition=Ready", "pod/probed", "--timeout=30s")).stdout).toBe("pod/probed condition met\n");

    rmSync(path.join(flags, "alive"));
    await eventually(async () => {
      const restarts = (await kubectl("get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")).stdout;
      return Number(restarts) >= 1 ? true : undefined;
    }, 30_000, "the container to be restarted");
    const events = (await kubectl("get", "events", "--field-selector", "involvedObject.name=probed", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")).stdout;
    expect(events).toContain("Unhealthy: Liveness probe failed: \n");
    expect(events).toContain("Killing: Container main failed liveness probe, will be restarted\n");
  });
});

describe("probe validation", () => {
  it("refuses a probe without a handler, naming the field", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "no-handler" },
      spec: { containers: [{ name: "main", image: "busybox", command: ["true"], readinessProbe: { periodSeconds: 1 } }] },
    };
    const result = await kubectlWith(sim.cluster.kubeconfigPath, ["create", "--validate=false", "-f", "-"], JSON.stringify(pod));
    expect(result.stderr).toContain('The Pod "no-handler" is invalid: spec.containers[0].readinessProbe: Required value: must specify a handler type');
  });
});

describe("objects the deployment kit applies, through client-node", () => {
  it("stores and returns NetworkPolicies and PodDisruptionBudgets, and gives Services a ClusterIP", async () => {
    const networking = sim.kubeConfig.makeApiClient(NetworkingV1Api);
    const policy = sim.kubeConfig.makeApiClient(PolicyV1Api);
    const egress = [{ to: [{ podSelector: { matchLabels: { app: "paperclip" } } }], ports: [{ protocol: "TCP", port: 3100 }] }];
    await networking.createNamespacedNetworkPolicy({
      namespace: "default",
      body: { metadata: { name: "agents" }, spec: { podSelector: { matchLabels: { role: "agent" } }, egress } },
    });
    const stored = await networking.readNamespacedNetworkPolicy({ namespace: "default", name: "agents" });
    expect(stored.spec).toEqual({ podSelector: { matchLabels: { role: "agent" } }, egress, policyTypes: ["Ingress", "Egress"] });

    await policy.createNamespacedPodDisruptionBudget({
      namespace: "default",
      body: { metadata: { name: "paperclip" }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: "paperclip" } } } },
    });
    expect((await policy.listNamespacedPodDisruptionBudget({ namespace: "default" })).items.map((pdb) => [pdb.metadata?.name, pdb.spec?.maxUnavailable])).toEqual([["paperclip", 0]]);
    expect((await kubectl("get", "pdb", "paperclip")).stdout).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\npaperclip\s+N\/A\s+0\s+0\s/);

    const service = await sim.core.createNamespacedService({
      namespace: "default",
      body: { metadata: { name: "paperclip" }, spec: { selector: { app: "paperclip" }, ports: [{ port: 3100 }] } },
    });
    expect(service.spec?.clusterIP).toMatch(/^127\.(9[6-9]|1[01]\d|12[0-7])\.\d+\.\d+$/);
    expect(service.spec?.ports?.[0]).toMatchObject({ port: 3100, targetPort: 3100, protocol: "TCP" });
    const taken = await apiError(
      sim.core.createNamespacedService({ namespace: "default", body: { metadata: { name: "twin" }, spec: { clusterIP: service.spec?.clusterIP, ports: [{ port: 1 }] } } }),
    );
    expect(taken.code).toBe(422);
    expect(String(taken.body.message)).toContain("provided IP is already allocated");
    const dotted = await apiError(sim.core.createNamespacedService({ namespace: "default", body: { metadata: { name: "a.b" }, spec: { ports: [{ port: 1 }] } } }));
    expect(String(dotted.body.message)).toContain('metadata.name: Invalid value: "a.b": a DNS-1035 label must consist of lower case alphanumeric characters');
    const outside = await apiError(
      sim.core.createNamespacedService({ namespace: "default", body: { metadata: { name: "far" }, spec: { clusterIP: "10.96.0.1", ports: [{ port: 1 }] } } }),
    );
    expect(String(outside.body.message)).toMatch(/the provided IP \(10\.96\.0\.1\) is not in the valid range\. The range of valid IPs is 127\.\d+\.\d+\.0\/24/);
  });

  it("proxies a Service without a selector to the EndpointSlice written for it (how a Service can front something outside the pods)", async () => {
    const server = http.createServer((_request, response) => response.end("outside"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const service = await sim.core.createNamespacedService({ namespace: "default", body: { metadata: { name: "outside" }, spec: { ports: [{ name: "https", port: 8443 }] } } });
      const discovery = sim.kubeConfig.makeApiClient(DiscoveryV1Api);
      await discovery.createNamespacedEndpointSlice({
        namespace: "default",
        body: {
          metadata: { name: "outside-1", labels: { "kubernetes.io/service-name": "outside" } },
          addressType: "IPv4",
          endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true } }],
          ports: [{ name: "https", port: address.port, protocol: "TCP" }],
        },
      });
      const body = await eventually(async () => {
        try {
          return await (await fetch(`http://${service.spec?.clusterIP ?? ""}:8443/`)).text();
        } catch {
          return undefined;
        }
      }, 30_000, "the proxy to forward");
      expect(body).toBe("outside");
    } finally {
      server.close();
    }
  });

  it("reports a Deployment's rollout in status for client-node readers", async () => {
    const apps = sim.kubeConfig.makeApiClient(AppsV1Api);
    const sleeper: V1Container = { name: "main", image: "busybox", command: ["sh", "-c", "sleep 3600"] };
    await apps.createNamespacedDeployment({ namespace: "default", body: deploymentOf("quiet", sleeper, { type: "Recreate" }) });
    const status = await eventually(async () => {
      const deployment = await apps.readNamespacedDeployment({ namespace: "default", name: "quiet" });
      return deployment.status?.availableReplicas === 1 ? deployment.status : undefined;
    }, 30_000, "the Deployment to be available");
    expect(status).toMatchObject({ observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 });
    expect(status.conditions?.map((condition) => [condition.type, condition.status, condition.reason])).toEqual([
      ["Available", "True", "MinimumReplicasAvailable"],
      ["Progressing", "True", "NewReplicaSetAvailable"],
    ]);

    // A pod relabelled out of the selector is released (and replaced); relabelled back, it is adopted and the surplus removed.
    const [pod] = podNames("quiet");
    await kubectl("label", "pod", pod ?? "", "app=debug", "--overwrite");
    const replacement = await eventually(() => podNames("quiet").find((name) => name !== pod), 30_000, "a replacement pod");
    expect((await kubectl("get", "pod", pod ?? "", "-o", "jsonpath={.metadata.ownerReferences}")).stdout).toBe("");
    await kubectl("label", "pod", pod ?? "", "app=quiet", "--overwrite");
    await eventually(() => (podNames("quiet").length === 1 ? true : undefined), 30_000, "the surplus pod to go");
    const owners = (await kubectl("get", "pods", "-l", "app=quiet", "-o", "jsonpath={range .items[*]}{.metadata.ownerReferences[0].kind}{end}")).stdout;
    expect(owners).toBe("ReplicaSet");
    expect([pod, replacement]).toContain(podNames("quiet")[0]);
  });
});
