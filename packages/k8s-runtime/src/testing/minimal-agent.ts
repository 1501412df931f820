import type { AgentCommandInput, AgentDefinition, InstructionsDelivery, SkillsDelivery } from "../agent.ts";

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
