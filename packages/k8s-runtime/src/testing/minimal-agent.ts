import { createK8sAdapter } from "../adapter.ts";
import type { AgentCommandInput, AgentDefinition, InstructionsDelivery, SkillsDelivery } from "../agent.ts";
import { ConformanceContext, useConformanceContext } from "./conformance-context.ts";
import { startConformanceCluster, type ConformanceCluster } from "./sim-harness.ts";

/**
 * The smallest agent definition, for runtime tests that must not import an adapter package: its CLI is
 * `minimal-agent`, it prints nothing the runtime interprets, and it records every command input it is asked for.
 * Skills come as a plain directory and instructions as a file unless `delivery` says otherwise.
 */
export function minimalAgent(
  delivery: { skillsDelivery?: SkillsDelivery; instructionsDelivery?: InstructionsDelivery } = {},
): AgentDefinition<null> & { commandInputs: AgentCommandInput[] } {
  const commandInputs: AgentCommandInput[] = [];
  return {
    commandInputs,
    type: "minimal_k8s",
    label: "Minimal agent",
    containerName: "agent",
    defaultImageHint: "example.test/minimal-agent",
    capabilities: { reportsTurnLimit: false, reportsCost: false },
    skillsDelivery: delivery.skillsDelivery ?? { kind: "directory" },
    instructionsDelivery: delivery.instructionsDelivery ?? "file",
    buildCommand: (input) => {
      commandInputs.push(input);
      return { argv: ["minimal-agent"], env: {} };
    },
    createParser: () => ({ push: () => {}, result: () => null }),
    interpret: () => ({ sessionId: null }),
    models: [],
    configFields: [],
    configurationDoc: "",
  };
}

/**
 * A conformance context for an agent built on `minimalAgent`, on `cluster`. The harness needs transcript names only
 * for the adapters' recorded-transcript scenarios, which tests of the minimal agent do not run.
 */
export function minimalAgentContext<TParsed>(agent: AgentDefinition<TParsed>, cluster: ConformanceCluster): ConformanceContext<TParsed> {
  return new ConformanceContext(
    {
      agent,
      adapter: createK8sAdapter(agent),
      transcripts: { cli: "claude", happy: "happy", resume: "resume", unknownSession: "", apiError: "", empty: "", killedMidstream: "" },
      truncatedErrorCode: "minimal_truncated",
    },
    cluster,
  );
}

/**
 * For a test file of `execute()` runs of one minimal-style agent: a simulated cluster started before its tests,
 * a check after each that none of its runs left anything behind, and everything stopped after them. Returns the
 * context's getter.
 */
export function useMinimalAgentContext<TParsed>(agent: AgentDefinition<TParsed>): () => ConformanceContext<TParsed> {
  return useConformanceContext(async () => minimalAgentContext(agent, await startConformanceCluster(agent)));
}
