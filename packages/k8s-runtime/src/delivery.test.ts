/**
 * The delivery declarations no shipped adapter uses yet (skills mounted into HOME, instructions in front of the
 * prompt), through `execute()` on the simulated cluster: the same scenarios every adapter's conformance suite runs.
 */
import { afterAll, afterEach, beforeAll, describe } from "vitest";
import { createK8sAdapter } from "./adapter.ts";
import { stopReapers } from "./reaper.ts";
import { stopSharedWatches } from "./shared-watch.ts";
import { ConformanceContext } from "./testing/conformance-context.ts";
import { minimalAgent } from "./testing/minimal-agent.ts";
import { deliveryScenarios } from "./testing/scenarios/delivery.ts";
import { startConformanceCluster } from "./testing/sim-harness.ts";

const agent = minimalAgent({ skillsDelivery: { kind: "home", homePath: ".codex/skills" }, instructionsDelivery: "prompt-prefix" });
let context: ConformanceContext<null> | undefined;
const get = (): ConformanceContext<null> => {
  if (context === undefined) throw new Error("the cluster is not started");
  return context;
};

beforeAll(async () => {
  // The harness needs transcript names only for the adapters' recorded-transcript scenarios, which this file does not run.
  context = new ConformanceContext(
    {
      agent,
      adapter: createK8sAdapter(agent),
      transcripts: { cli: "claude", happy: "happy", resume: "resume", unknownSession: "", apiError: "", empty: "", killedMidstream: "" },
      truncatedErrorCode: "minimal_truncated",
    },
    await startConformanceCluster(agent),
  );
});
afterEach(async () => {
  await context?.expectNothingLeftBehind();
});
afterAll(async () => {
  stopReapers();
  await stopSharedWatches();
  await context?.cluster.stop();
});

describe("an agent with skills in its HOME and instructions in its prompt (simulated cluster)", () => deliveryScenarios(get));
