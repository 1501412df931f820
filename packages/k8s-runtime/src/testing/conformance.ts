import { describe } from "vitest";
import { ConformanceContext, type ConformanceOptions, useConformanceContext } from "./conformance-context.ts";
import { agentLockScenarios } from "./scenarios/agent-lock.ts";
import { deliveryScenarios } from "./scenarios/delivery.ts";
import { failureScenarios } from "./scenarios/failures.ts";
import { lifecycleScenarios } from "./scenarios/lifecycle.ts";
import { outputScenarios } from "./scenarios/output.ts";
import { rbacScenarios } from "./scenarios/rbac.ts";
import { resilienceScenarios } from "./scenarios/resilience.ts";
import { securityScenarios } from "./scenarios/security.ts";
import { securityFileScenarios } from "./scenarios/security-files.ts";
import { secretRedactionScenarios } from "./scenarios/security-secrets.ts";
import { callbackFailureScenarios } from "./scenarios/callback-failures.ts";
import { securityConfigScenarios } from "./scenarios/security-config.ts";
import { transcriptScenarios } from "./scenarios/transcripts.ts";
import { startConformanceCluster } from "./sim-harness.ts";

export interface AdapterConformanceOptions<TParsed> extends ConformanceOptions<TParsed> {
  /** URL of the adapter package's entry module (its `createServerAdapter()`), for the server-crash scenario. */
  adapterModuleUrl: string;
}

/**
 * The lifecycle of DESIGN §3, checked through the adapter's real `execute()` against the simulated
 * cluster, with a fake agent CLI in the pod that replays this CLI's recorded output. Every adapter
 * package calls this from one test file.
 */
export function describeAdapterConformance<TParsed>(options: AdapterConformanceOptions<TParsed>): void {
  describe(`${options.agent.type} conformance (simulated cluster)`, () => {
    // Every scenario leaves nothing behind: no Job, pod or Secret of its runs, no run directory.
    const get = useConformanceContext(async () => new ConformanceContext(options, await startConformanceCluster(options.agent)));

    describe("recorded transcripts", () => transcriptScenarios(options, get));
    describe("failures", () => failureScenarios(get));
    describe("lifecycle", () => lifecycleScenarios(get, options.adapterModuleUrl));
    describe("one Job per agent, nothing left behind", () => agentLockScenarios(get, options.adapterModuleUrl));
    describe("output", () => outputScenarios(get));
    describe("security", () => securityScenarios(get));
    describe("security: hostile agent files", () => securityFileScenarios(get));
    describe("security: secrets", () => secretRedactionScenarios(get));
    describe("callback failures", () => callbackFailureScenarios(get));
    describe("security: hostile config", () => securityConfigScenarios(get));
    describe("skills and instructions, as the agent declares", () => deliveryScenarios(get));
    describe("resilience", () => resilienceScenarios(get));
    // Last: it checks the requests of every scenario above.
    rbacScenarios(get);
  });
}
