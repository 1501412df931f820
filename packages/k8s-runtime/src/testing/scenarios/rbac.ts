import { randomUUID } from "node:crypto";
import type { RequestAccounting } from "paperclip-k8s-sim";
import { beforeAll, describe, expect, it } from "vitest";
import { RUNTIME_USER_AGENT } from "../../cluster-access.ts";
import { jobNameFor } from "../../names.ts";
import { RUNTIME_PERMISSIONS } from "../../permissions.ts";
import type { ConformanceContext } from "../conformance-context.ts";

/** Requests outside the Role that Kubernetes lets every authenticated user make (ClusterRole `system:basic-user`). */
const GRANTED_TO_EVERY_USER = new Set(["create selfsubjectaccessreviews"]);

/** Verbs the Role grants that no scenario can reach on the simulated cluster, and why the Role still needs them. */
const NOT_REACHABLE_IN_THE_SUITE: Record<string, string> = {
  "get pods": "reading Paperclip's own pod (self-discovery) happens only when the server runs in a pod, and the suite's does not",
};

const granted = RUNTIME_PERMISSIONS.flatMap((permission) => permission.verbs.map((verb) => `${verb} ${permission.resource}`));

/**
 * Collects "verb resource" (`pods/log` for a subresource) of every request the runtime made, told
 * apart from the tests' own requests by its User-Agent. A scenario that zeroes the sim's counters
 * (the request budget) first hands them over here, so nothing of the suite is lost.
 */
function trackRuntimeRequests(requests: RequestAccounting): () => string[] {
  const seen = new Set<string>();
  const collect = () => {
    const counts = requests.snapshot().byUserAgent[RUNTIME_USER_AGENT] ?? {};
    for (const [resource, verbs] of Object.entries(counts)) {
      for (const [verb, count] of Object.entries(verbs)) if (count) seen.add(`${verb} ${resource}`);
    }
  };
  const reset = requests.reset.bind(requests);
  requests.reset = () => {
    collect();
    reset();
  };
  return () => {
    collect();
    return [...seen].sort();
  };
}

/**
 * The Role in the README (`RUNTIME_PERMISSIONS`) against what the runtime really asked the API
 * server for over the whole suite: nothing beyond it, and nothing in it unused. Register it last,
 * directly in the suite's describe, so it sees every scenario's requests.
 */
export function rbacScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  let runtimeRequests: () => string[] = () => [];
  beforeAll(() => {
    runtimeRequests = trackRuntimeRequests(get().cluster.sim.requests);
  });

  describe("RBAC", () => {
    it("a Job create refused after the run's Secret was made deletes that Secret", async () => {
      const t = get();
      const agentId = randomUUID();
      const runId = randomUUID();
      // Someone else's Job holds the run's name, so the create meets 409 on its first attempt.
      const jobName = jobNameFor(agentId, runId);
      t.cluster.sim.store.create("jobs", {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: jobName, namespace: t.cluster.namespace },
        spec: { suspend: true, template: { spec: { restartPolicy: "Never", containers: [{ name: "other", image: t.cluster.image }] } } },
      });
      const { result } = await t.run({ agentId, runId, scenario: {} }).finally(() => t.cluster.sim.store.remove("jobs", t.cluster.namespace, jobName));
      expect(result.errorCode).toBe("k8s_job_create_failed");
      expect(result.errorMessage).toMatch(/AlreadyExists/);
      expect(t.leftovers(agentId)).toEqual([]);
      expect(runtimeRequests()).toContain("delete secrets");
    });

    it("the environment test finds every permission of the Role granted", async () => {
      const t = get();
      const { adapter } = t.options;
      const result = await adapter.testEnvironment({ companyId: "company-1", adapterType: adapter.type, config: t.cluster.config() });
      const permissionChecks = result.checks.filter((check) => check.code.startsWith("rbac_"));
      expect(permissionChecks.map((check) => check.code).sort()).toEqual(RUNTIME_PERMISSIONS.map((permission) => `rbac_${permission.resource}`).sort());
      expect(permissionChecks.filter((check) => check.level !== "info")).toEqual([]);
      expect(result.checks.find((check) => check.code === "shared_volume")?.level).toBe("info");
    });

    it("the runtime used nothing the Role does not grant", () => {
      const used = runtimeRequests();
      expect(used).not.toEqual([]);
      expect(used.filter((request) => !granted.includes(request) && !GRANTED_TO_EVERY_USER.has(request))).toEqual([]);
    });

    it("the Role grants nothing the runtime did not use", () => {
      const used = runtimeRequests();
      expect(granted.filter((request) => !used.includes(request) && !(request in NOT_REACHABLE_IN_THE_SUITE))).toEqual([]);
    });
  });
}
