import { readFileSync } from "node:fs";
import type { V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTAINER_RUNTIME_DIR } from "./kubelet/container-process.ts";
import { processesWithMarker } from "./kubelet/test-fixture.ts";
import type { SimClients } from "./testing/clients.ts";
import { eventually, startSimWithClients } from "./testing/clients.ts";

const NAMESPACE = "scale";
const JOB_COUNT = 100;
/** Every container the test starts carries this variable, so its processes can be found in /proc. */
const MARKER = `K8S_SIM_SCALE_${process.pid}_${Date.now()}`;

/** Every fifth Job fails, with exit codes 1..3. */
const expectedExitCode = (index: number) => (index % 5 === 0 ? (index % 3) + 1 : 0);
const jobName = (index: number) => `scale-${String(index).padStart(3, "0")}`;

function job(name: string, kind: "finite" | "long", script: string) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, labels: { scale: kind } },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", script], env: [{ name: MARKER, value: "1" }] }],
        },
      },
    },
  };
}

function finishedCondition(job: V1Job): "Complete" | "Failed" | undefined {
  const condition = job.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
  return condition?.type === "Complete" || condition?.type === "Failed" ? condition.type : undefined;
}

let sim: SimClients;
let stopped = false;
beforeAll(async () => {
  sim = await startSimWithClients({ acceptAnyImage: true });
  await sim.core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
});
afterAll(async () => {
  if (!stopped) await sim.cluster.stop();
});

/** Resolves once every Job matching `labelSelector` that the watch has seen is finished and `expected` of them are. */
async function watchUntilFinished(labelSelector: string, expected: number, start: () => Promise<unknown>): Promise<Map<string, string>> {
  const finished = new Map<string, string>();
  const listed = await sim.batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector });
  let abort: AbortController | undefined;
  const done = new Promise<void>((resolve, reject) => {
    void sim.watch
      .watch(
        `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`,
        { labelSelector, resourceVersion: listed.metadata?.resourceVersion },
        (type: string, object: V1Job) => {
          const condition = type === "DELETED" ? undefined : finishedCondition(object);
          if (condition && object.metadata?.name) finished.set(object.metadata.name, condition);
          if (finished.size === expected) resolve();
        },
        (error: unknown) => reject(new Error(`the job watch ended before every Job finished (${finished.size}/${expected}): ${String(error)}`)),
      )
      .then((controller) => {
        abort = controller;
      }, reject);
  });
  try {
    await eventually(() => (sim.cluster.requests.snapshot().openWatches.jobs ? true : undefined), 10_000, "the job watch to open");
    await start();
    await done;
  } finally {
    abort?.abort();
  }
  return finished;
}

describe("100 concurrent Jobs", () => {
  it("all finish with the right condition, exit code and log, and stop() leaves no process or mount behind", async () => {
    const finished = await watchUntilFinished(`scale=finite`, JOB_COUNT, async () => {
      const creates = Array.from({ length: JOB_COUNT }, (_, index) =>
        sim.batch.createNamespacedJob({
          namespace: NAMESPACE,
          body: job(jobName(index), "finite", `echo "job ${index} says hi"; exit ${expectedExitCode(index)}`),
        }),
      );
      // Two Jobs that are still running (with a background child each) when the cluster stops.
      for (const name of ["long-1", "long-2"]) {
        creates.push(sim.batch.createNamespacedJob({ namespace: NAMESPACE, body: job(name, "long", "sleep 300 & echo up; wait") }));
      }
      await Promise.all(creates);
    });

    const jobs = (await sim.batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector: "scale=finite" })).items;
    expect(jobs).toHaveLength(JOB_COUNT);
    const pods = (await sim.core.listNamespacedPod({ namespace: NAMESPACE })).items;
    for (let index = 0; index < JOB_COUNT; index++) {
      const name = jobName(index);
      const exitCode = expectedExitCode(index);
      expect(finished.get(name), name).toBe(exitCode === 0 ? "Complete" : "Failed");
      const status = jobs.find((j) => j.metadata?.name === name)?.status;
      const types = status?.conditions?.filter((c) => c.status === "True").map((c) => c.type);
      if (exitCode === 0) {
        expect(types, name).toEqual(["SuccessCriteriaMet", "Complete"]);
        expect(status?.succeeded, name).toBe(1);
      } else {
        expect(types, name).toEqual(["FailureTarget", "Failed"]);
        expect(status?.conditions?.find((c) => c.type === "Failed")?.reason, name).toBe("BackoffLimitExceeded");
        expect(status?.failed, name).toBe(1);
      }
      const owned = pods.filter((p) => p.metadata?.labels?.["job-name"] === name);
      expect(owned, name).toHaveLength(1);
      expect(owned[0]?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, name).toBe(exitCode);
    }

    for (const index of [0, 1, 42, 99]) {
      const pod = pods.find((p) => p.metadata?.labels?.["job-name"] === jobName(index));
      const log = await sim.core.readNamespacedPodLog({ namespace: NAMESPACE, name: pod?.metadata?.name ?? "" });
      expect(log).toBe(`job ${index} says hi\n`);
    }

    // Each long Job's shell and its sleep: the leak check below has live processes to prove gone.
    await eventually(() => (processesWithMarker(MARKER).length >= 4 ? true : undefined), 20_000, "the long-running containers");
    const rootDir = sim.cluster.rootDir;
    stopped = true;
    await sim.cluster.stop();
    expect(processesWithMarker(MARKER)).toEqual([]);
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    expect(mounts).not.toContain(rootDir);
    expect(mounts).not.toContain(CONTAINER_RUNTIME_DIR);
  });
});
