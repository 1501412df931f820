import { execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimCluster } from "./cluster.ts";
import { startSimCluster } from "./cluster.ts";
import { eventually } from "./testing/clients.ts";

const run = promisify(execFile);
let cluster: SimCluster;

beforeAll(async () => {
  cluster = await startSimCluster({ acceptAnyImage: true });
});
afterAll(async () => {
  await cluster.stop();
});

async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run("kubectl", ["--kubeconfig", cluster.kubeconfigPath, ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failure.stdout ?? "", stderr: failure.stderr ?? "", code: typeof failure.code === "number" ? failure.code : 1 };
  }
}

function jobManifest(name: string, script: string, labels: Record<string, string> = {}): string {
  const file = path.join(cluster.rootDir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, labels },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", script] }] } },
      },
    }),
  );
  return file;
}

describe("kubectl against the sim", () => {
  it("runs the acceptance scenario: create, wait Failed, logs, exit code, delete --cascade=background", async () => {
    expect((await kubectl("create", "--validate=false", "-f", jobManifest("hello", "echo hello; exit 3"))).stdout).toBe("job.batch/hello created\n");
    const wait = await kubectl("wait", "--for=condition=Failed", "job/hello", "--timeout=30s");
    expect(wait.stdout).toBe("job.batch/hello condition met\n");
    expect((await kubectl("logs", "job/hello")).stdout).toBe("hello\n");
    const exitCode = await kubectl("get", "pods", "-l", "job-name=hello", "-o", "jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}");
    expect(exitCode.stdout).toBe("3");
    const table = await kubectl("get", "jobs");
    expect(table.stdout).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\nhello\s+Failed\s+0\/1\s/);
    expect((await kubectl("delete", "job", "hello", "--cascade=background")).stdout).toBe('job.batch "hello" deleted\n');
    await eventually(() => (cluster.store.list("pods", { namespace: "default" }).items.length === 0 ? true : undefined), 10_000, "the pod to go");
  });

  it("refuses a Job with an invalid label value with 422", async () => {
    const result = await kubectl("create", "--validate=false", "-f", jobManifest("bad", "true", { app: "bad-" }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('The Job "bad" is invalid: metadata.labels: Invalid value: "bad-"');
  });

  it("delete --cascade=orphan keeps the pod and drops its owner reference", async () => {
    await kubectl("create", "--validate=false", "-f", jobManifest("kept", "true"));
    await kubectl("wait", "--for=condition=Complete", "job/kept", "--timeout=30s");
    await kubectl("delete", "job", "kept", "--cascade=orphan");
    const owners = await kubectl("get", "pods", "-l", "job-name=kept", "-o", "jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences}{end}");
    expect(owners.stdout).toMatch(/^kept-[a-z0-9]{5}:$/);
  });

  it("get -w streams changes", async () => {
    const watcher = spawn("kubectl", ["--kubeconfig", cluster.kubeconfigPath, "get", "jobs", "-w", "--output-watch-events"]);
    let output = "";
    watcher.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      await eventually(() => (cluster.requests.snapshot().openWatches.jobs === 1 ? true : undefined), 10_000, "kubectl's watch to open");
      await kubectl("create", "--validate=false", "-f", jobManifest("watched", "true"));
      await eventually(() => (/MODIFIED\s+watched\s+Complete/.test(output) ? true : undefined), 15_000, "the job to complete in the watch");
      expect(output).toMatch(/ADDED\s+watched\s+Running/);
    } finally {
      watcher.kill();
    }
  });

  it("describe shows the Job's events, and get -o jsonpath reads fields", async () => {
    await kubectl("create", "--validate=false", "-f", jobManifest("described", "true"));
    await kubectl("wait", "--for=condition=Complete", "job/described", "--timeout=30s");
    const described = await kubectl("describe", "job", "described");
    expect(described.stdout).toMatch(/SuccessfulCreate\s+\S+\s+job-controller\s+Created pod: described-/);
    const selector = await kubectl("get", "job", "described", "-o", "jsonpath={.spec.selector.matchLabels}");
    expect(selector.stdout).toContain("batch.kubernetes.io/controller-uid");
  });
});
