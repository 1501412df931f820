import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { V1Affinity } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimClients } from "./testing/clients.ts";
import { eventually, startSimWithClients } from "./testing/clients.ts";
import type { KubectlResult } from "./testing/kubectl.ts";
import { kubectlWith } from "./testing/kubectl.ts";

let sim: SimClients;

beforeAll(async () => {
  sim = await startSimWithClients({ acceptAnyImage: true, nodes: [{ name: "n1", labels: { disk: "ssd" } }, { name: "n2" }] });
});
afterAll(async () => {
  await sim.cluster.stop();
});

function kubectl(...args: string[]): Promise<KubectlResult> {
  return kubectlWith(sim.cluster.kubeconfigPath, args);
}

async function apply(...objects: object[]): Promise<void> {
  const result = await kubectlWith(sim.cluster.kubeconfigPath, ["apply", "--validate=false", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  expect(result.stderr).toBe("");
}

function onNodes(operator: "In" | "NotIn", nodes: string[]): V1Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator, values: nodes }] }],
      },
    },
  };
}

function sleeper(name: string, placement: { nodeSelector?: Record<string, string>; affinity?: V1Affinity }, claim?: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      ...placement,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: "main", image: "busybox", command: ["sh", "-c", "sleep 3600"], ...(claim ? { volumeMounts: [{ name: "data", mountPath: "/data" }] } : {}) },
      ],
      ...(claim ? { volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }] } : {}),
    },
  };
}

function claim(name: string, accessModes: string[]) {
  return { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name }, spec: { accessModes, resources: { requests: { storage: "1Gi" } } } };
}

async function nodeOf(pod: string): Promise<string> {
  return eventually(async () => (await kubectl("get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")).stdout || undefined, 30_000, `${pod} to be scheduled`);
}

describe("several nodes", () => {
  it("places pods by required node affinity (In, NotIn, Exists) and nodeSelector on kubernetes.io/hostname", async () => {
    const exists: V1Affinity = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator: "Exists" }] }] } },
    };
    await apply(
      sleeper("pinned-in", { affinity: onNodes("In", ["n2"]) }),
      sleeper("pinned-notin", { affinity: onNodes("NotIn", ["n2"]) }),
      sleeper("pinned-exists", { affinity: exists }),
      sleeper("pinned-selector", { nodeSelector: { "kubernetes.io/hostname": "n2" } }),
      sleeper("nowhere", { affinity: onNodes("In", ["n3"]) }),
    );
    expect(await nodeOf("pinned-in")).toBe("n2");
    expect(await nodeOf("pinned-notin")).toBe("n1");
    expect(await nodeOf("pinned-exists")).toBe("n1");
    expect(await nodeOf("pinned-selector")).toBe("n2");
    const wide = (await kubectl("get", "pods", "-o", "wide")).stdout;
    expect(wide).toMatch(/pinned-in\s+\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+n2\s/);
    expect(wide).toMatch(/nowhere\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s/);
    const described = await eventually(async () => {
      const text = (await kubectl("describe", "pod", "nowhere")).stdout;
      return text.includes("FailedScheduling") ? text : undefined;
    }, 30_000, "the FailedScheduling event");
    expect(described).toContain(
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    await kubectl("delete", "pod", "pinned-in", "pinned-notin", "pinned-exists", "pinned-selector", "nowhere", "--wait=false");
  });

  it("a ReadWriteOnce claim used on one node keeps a pod on another node in ContainerCreating with the Multi-Attach event, until it is free", async () => {
    await apply(claim("rwo", ["ReadWriteOnce"]), sleeper("holder", { nodeSelector: { "kubernetes.io/hostname": "n1" } }, "rwo"));
    await kubectl("wait", "--for=condition=Ready", "pod/holder", "--timeout=30s");
    await apply(
      sleeper("neighbour", { affinity: onNodes("In", ["n1"]) }, "rwo"),
      sleeper("waiter", { affinity: onNodes("In", ["n2"]) }, "rwo"),
    );
    // Pods on the node the volume is attached to share it.
    expect((await kubectl("wait", "--for=condition=Ready", "pod/neighbour", "--timeout=30s")).code).toBe(0);
    const volume = (await kubectl("get", "pvc", "rwo", "-o", "jsonpath={.spec.volumeName}")).stdout;
    expect(volume).toMatch(/^pvc-/);
    const multiAttach = new RegExp(
      `Warning\\s+FailedAttachVolume\\s+\\S+\\s+attachdetach-controller\\s+Multi-Attach error for volume "${volume}" Volume is already used by pod\\(s\\) holder, neighbour\\n`,
    );
    await eventually(async () => (multiAttach.test((await kubectl("describe", "pod", "waiter")).stdout) ? true : undefined), 30_000, "the Multi-Attach event");
    expect((await kubectl("get", "pod", "waiter", "-o", "wide")).stdout).toMatch(/waiter\s+0\/1\s+ContainerCreating\s+0\s+\S+\s+\S+\s+n2\s/);
    expect((await kubectl("get", "node", "n1", "-o", "jsonpath={.status.volumesAttached[*].name}")).stdout).toBe(`kubernetes.io/k8s-sim/${volume}`);

    // Once no pod on n1 uses it, the volume detaches there and attaches to n2.
    await kubectl("delete", "pod", "holder", "neighbour");
    expect((await kubectl("wait", "--for=condition=Ready", "pod/waiter", "--timeout=30s")).code).toBe(0);
    const events = (await kubectl("get", "events", "--field-selector", "involvedObject.name=waiter,reason=SuccessfulAttachVolume", "-o", "jsonpath={.items[*].message}")).stdout;
    expect(events).toBe(`AttachVolume.Attach succeeded for volume "${volume}"`);
    expect((await kubectl("get", "node", "n1", "-o", "jsonpath={.status.volumesAttached}")).stdout).toBe("");
    await kubectl("delete", "pod", "waiter", "--wait=false");
  });

  it("a ReadWriteMany claim is used from several nodes at once", async () => {
    await apply(
      claim("rwx", ["ReadWriteMany"]),
      sleeper("rwx-a", { nodeSelector: { "kubernetes.io/hostname": "n1" } }, "rwx"),
      sleeper("rwx-b", { nodeSelector: { "kubernetes.io/hostname": "n2" } }, "rwx"),
    );
    expect((await kubectl("wait", "--for=condition=Ready", "pod/rwx-a", "pod/rwx-b", "--timeout=30s")).code).toBe(0);
    expect((await kubectl("get", "events", "--field-selector", "reason=FailedAttachVolume,involvedObject.name=rwx-b", "-o", "name")).stdout).toBe("");
  });
});

describe("the sim CLI", () => {
  it("starts a cluster with the nodes and labels --node names", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "k8s-sim-nodes-"));
    const kubeconfig = path.join(dir, "kubeconfig.json");
    const child = spawn(process.execPath, ["--conditions=source", path.join(import.meta.dirname, "cli.ts"), "--kubeconfig", kubeconfig, "--node", "a:disk=ssd,zone=z1", "--node", "b"]);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await eventually(() => (output.includes("Press Ctrl-C to stop.") ? true : undefined), 30_000, "the CLI's sim to start");
      const nodes = await kubectlWith(kubeconfig, ["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}:{.metadata.labels.kubernetes\\.io/hostname}:{.metadata.labels.disk}:{.metadata.labels.zone} {end}"]);
      expect(nodes.stdout.trim()).toBe("a:a:ssd:z1 b:b::");
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
