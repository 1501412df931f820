/**
 * The delivery declarations no shipped adapter uses yet (skills mounted into HOME, instructions in front of the
 * prompt), through `execute()` on the simulated cluster: the same scenarios every adapter's conformance suite runs.
 */
import { describe } from "vitest";
import { minimalAgent, useMinimalAgentContext } from "./testing/minimal-agent.ts";
import { deliveryScenarios } from "./testing/scenarios/delivery.ts";

const agent = minimalAgent({ skillsDelivery: { kind: "home", homePath: ".codex/skills" }, instructionsDelivery: "prompt-prefix" });
const get = useMinimalAgentContext(agent);

describe("an agent with skills in its HOME and instructions in its prompt (simulated cluster)", () => deliveryScenarios(get));
