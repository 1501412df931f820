import type { AgentCommandInput } from "../agent.ts";

/** A complete `AgentCommandInput` for tests, with a run directory under /paperclip; `overrides` win. */
export function sampleCommandInput(overrides: Partial<AgentCommandInput> = {}): AgentCommandInput {
  const runDir = "/paperclip/data/k8s-runs/c/a/r";
  return {
    config: {},
    resumeSessionId: null,
    model: null,
    extraArgs: [],
    dangerouslySkipPermissions: true,
    cwd: "/work",
    runDir,
    promptFile: `${runDir}/prompt`,
    instructionsFile: null,
    skillsDir: null,
    ...overrides,
  };
}
