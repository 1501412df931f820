/**
 * The real `codex` in simulated pods, against the scripted LLM's OpenAI Responses API, through the adapter's own
 * `execute()`: the shared real-CLI scenarios, then what only Codex has.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describeRealCliConformance, expectAgreesWithOracle, filesUnder, FINAL_TEXT } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { codexAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";
import { codexRealCliSpec } from "./real-cli-spec.ts";
import { codexVerdictOracle } from "./verdict-oracle.ts";

const cluster = describeRealCliConformance(codexRealCliSpec, codexAgent, createServerAdapter(), { oracle: codexVerdictOracle });

describe("codex_k8s with the real codex CLI: what only Codex does", { timeout: 120_000 }, () => {
  it("a resumed thread's usage is the thread's running total, reported as session_cumulative", async () => {
    const first = await cluster().run({ scenario: "happy" });
    expect(first.result.usageBasis).toBe("per_run");
    const second = await cluster().run({ scenario: "happy", agentId: first.agentId, workspaceCwd: first.workspaceCwd, sessionParams: first.result.sessionParams ?? null });
    expect(second.result.sessionId).toBe(first.result.sessionId);
    expect(second.result.usageBasis).toBe("session_cumulative");
    expect(second.result.usage?.outputTokens).toBe(2 * (first.result.usage?.outputTokens ?? 0));
    expectAgreesWithOracle(second, codexVerdictOracle, "codex", "resumed-usage");
  });

  it("a non-UUID thread id Codex does not know: it starts a NEW thread, which the run reports as session_unavailable", async () => {
    const replaced = await cluster().run({ scenario: "happy", sessionParams: { sessionId: "bogus-thread-id" } });
    expect(replaced.run.transcript().join("")).toContain(FINAL_TEXT);
    expect(replaced.result.errorCode).toBe("session_unavailable");
    expect(replaced.result.clearSession).toBe(true);
    expect(replaced.result.errorMessage).toMatch(/^Codex did not resume thread bogus-thread-id: it started a new thread [0-9a-f-]{36}/);
    expectAgreesWithOracle(replaced, codexVerdictOracle, "codex", "resume-bogus-id");
  });

  it("skills reach Codex read-only in $CODEX_HOME/skills, and instructions open the prompt: both are in the thread Codex sent", async () => {
    const c = cluster();
    const marker = randomUUID();
    const source = path.join(c.instanceRoot, "skills", "company-1", "review");
    await mkdir(source, { recursive: true });
    await writeFile(path.join(source, "SKILL.md"), `---\nname: review\ndescription: Review skill ${marker}\n---\nReview carefully.\n`);
    const agentId = randomUUID();
    const workspaceCwd = await c.workspace(agentId);
    // In the agent's workspace, a root the instructions policy allows (not AGENTS.md, which Codex would read on its own).
    const instructions = path.join(workspaceCwd, "instructions.md");
    await writeFile(instructions, `Always be brief ${marker}.\n`);
    const { result } = await c.run({
      scenario: "happy",
      agentId,
      workspaceCwd,
      config: {
        instructionsFilePath: instructions,
        paperclipRuntimeSkills: [{ key: "acme/review", runtimeName: "review", source }],
        paperclipSkillSync: { desiredSkills: ["acme/review"] },
      },
    });
    expect(result.errorMessage ?? null).toBeNull();
    // Codex records every item it sent the model in its thread's rollout, under the agent's HOME.
    const home = path.join(c.instanceRoot, "data", "k8s-runs", "company-1", agentId, ".home");
    const rollouts = (await filesUnder(path.join(home, ".codex", "sessions"))).filter((file) => file.endsWith(".jsonl"));
    expect(rollouts).toHaveLength(1);
    const thread = await readFile(path.join(home, ".codex", "sessions", rollouts[0] ?? ""), "utf8");
    expect(thread).toContain(`Review skill ${marker}`);
    // JSON-encoded in the rollout: the instructions, a blank line, the runtime's note, then the task.
    expect(thread).toContain(`Always be brief ${marker}.\\n\\n(The above are your agent instructions, from ${instructions}.)`);
  });

  it("a CODEX_HOME that does not exist: agent_start_failed with Codex's own words, no model call", async () => {
    const refused = await cluster().run({ scenario: "happy", config: { env: { CODEX_HOME: "/nonexistent/codex-home" } } });
    expect(refused.result.exitCode).toBe(1);
    expect(refused.result.errorCode).toBe("agent_start_failed");
    expect(refused.result.errorMessage).toMatch(/CODEX_HOME points to "\/nonexistent\/codex-home", but that path does not exist/);
    expect(refused.llmRequests()).toEqual([]);
    expectAgreesWithOracle(refused, codexVerdictOracle, "codex", "codex-home-missing");
  });
});
