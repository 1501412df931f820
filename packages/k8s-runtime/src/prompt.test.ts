import { describe, expect, it } from "vitest";
import { renderRunPrompt } from "./prompt.ts";

const base = {
  runId: "run-1",
  agent: { id: "agent-1", companyId: "company-1", name: "Agent", adapterType: "minimal_k8s", adapterConfig: {} },
  config: { promptTemplate: "Work on the task." },
  context: {},
} as const;
const instructions = { text: "# Be brief.\n", source: "/data/instructions/AGENTS.md" };
const opening = "# Be brief.\n\n(The above are your agent instructions, from /data/instructions/AGENTS.md.)\n\nWork on the task.";

describe("renderRunPrompt: instructions in front of the prompt", () => {
  it("a fresh session gets the instructions, then where they came from, then the prompt", () => {
    const rendered = renderRunPrompt(base, false, instructions);
    expect(rendered.text).toBe(opening);
    expect(rendered.metrics.instructionsChars).toBe(opening.length - "\n\nWork on the task.".length);
  });

  it("a resumed session without a wake delta gets them again, as codex_local does; with only a wake delta, not", () => {
    expect(renderRunPrompt(base, true, instructions).text).toBe(opening);
    const woken = { ...base, context: { paperclipWake: { reason: "issue_commented", issue: { id: "i-1", identifier: "PC-1", title: "T" }, comments: [{ id: "c-1", body: "Please look again." }] } } };
    const delta = renderRunPrompt(woken, true, instructions);
    expect(delta.text).not.toContain("Be brief");
    expect(delta.metrics.instructionsChars).toBe(0);
  });

  it("no instructions: the prompt is unchanged", () => {
    expect(renderRunPrompt(base, false).text).toBe("Work on the task.");
    expect(renderRunPrompt(base, false, { text: "  \n", source: "/x" }).text).toBe("Work on the task.");
  });
});
