import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import type { SkillsDelivery } from "../../agent.ts";
import { runDirectoryFor, type RunDirectory } from "../../run-directory.ts";
import type { ConformanceContext, FileActionOutcome } from "../conformance-context.ts";

/** Where an agent that declares `delivery` must find a skill's `SKILL.md` in its pod: the declaration's promise. */
function promisedSkillFile(delivery: SkillsDelivery, run: RunDirectory, name: string): string {
  switch (delivery.kind) {
    case "directory":
      return path.join(run.skills, name, "SKILL.md");
    case "claude-project-dir":
      return path.join(run.skills, ".claude", "skills", name, "SKILL.md");
    case "home":
      return path.join(run.home, delivery.homePath, name, "SKILL.md");
  }
}

/**
 * Skills and instructions reach the agent in its pod as the agent declares (`skillsDelivery`,
 * `instructionsDelivery`), through `execute()`: the pod reads them where the declaration says, and cannot change them.
 */
export function deliveryScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("the agent's enabled skill is readable in the pod where its skillsDelivery says, and read-only there", async () => {
    const t = get();
    const ids = { companyId: randomUUID(), agentId: randomUUID(), runId: randomUUID() };
    const run = runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, ...ids });
    const marker = `Use review ${randomUUID()}.`;
    // The company's skill library, a root the skills policy allows.
    const source = path.join(t.cluster.instanceRoot, "skills", ids.companyId, "review");
    await mkdir(source, { recursive: true });
    await writeFile(path.join(source, "SKILL.md"), `---\nname: review\ndescription: review skill\n---\n${marker}\n`);
    const skillFile = promisedSkillFile(t.agent.skillsDelivery, run, "review");
    const outcomes = await t.recordingPath(ids.agentId, "skills.json");
    const { result } = await t.run({
      ...ids,
      config: {
        paperclipRuntimeSkills: [{ key: "acme/review", runtimeName: "review", source }],
        paperclipSkillSync: { desiredSkills: ["acme/review"] },
      },
      scenario: {
        fileActions: [
          { op: "read", path: skillFile },
          { op: "write", path: skillFile, data: "tampered" },
          { op: "write", path: path.join(path.dirname(skillFile), "..", "planted.md"), data: "planted" },
        ],
        fileActionsResultTo: outcomes,
      },
    });
    expect(result.errorMessage ?? null).toBeNull();
    const [read, overwrite, plant] = JSON.parse(await readFile(outcomes, "utf8")) as FileActionOutcome[];
    expect(read).toMatchObject({ ok: true, data: expect.stringContaining(marker) });
    expect(overwrite).toMatchObject({ ok: false, error: "EROFS" });
    expect(plant).toMatchObject({ ok: false, error: "EROFS" });
    expect(await readFile(path.join(source, "SKILL.md"), "utf8")).toContain(marker);
    await t.expectCleanCluster(ids.agentId);
  });

  it("instructions reach the agent as its instructionsDelivery says: a read-only file, or the prompt's opening", async () => {
    const t = get();
    const ids = { companyId: randomUUID(), agentId: randomUUID(), runId: randomUUID() };
    const run = runDirectoryFor({ instanceRoot: t.cluster.instanceRoot, ...ids });
    const managed = path.join(t.cluster.instanceRoot, "companies", ids.companyId, "agents", ids.agentId, "instructions");
    const instructions = `# Be brief ${randomUUID()}.`;
    await mkdir(managed, { recursive: true });
    await writeFile(path.join(managed, "AGENTS.md"), `${instructions}\n`);
    const outcomes = await t.recordingPath(ids.agentId, "instructions.json");
    const { result } = await t.run({
      ...ids,
      config: { instructionsFilePath: path.join(managed, "AGENTS.md") },
      scenario: {
        fileActions: [
          { op: "read", path: run.instructions },
          { op: "write", path: run.instructions, data: "tampered" },
          { op: "read", path: run.prompt },
        ],
        fileActionsResultTo: outcomes,
      },
    });
    expect(result.errorMessage ?? null).toBeNull();
    const [file, overwrite, prompt] = JSON.parse(await readFile(outcomes, "utf8")) as FileActionOutcome[];
    expect(overwrite).toMatchObject({ ok: false, error: "EROFS" });
    if (t.agent.instructionsDelivery === "file") {
      expect(file).toMatchObject({ ok: true, data: `${instructions}\n` });
      expect(prompt?.data).not.toContain(instructions);
    } else {
      expect(file).toMatchObject({ ok: false, error: "ENOENT" });
      // The fake agent reads the prompt's first 200 characters; prompt.test.ts checks the whole opening.
      expect(prompt?.data?.startsWith(`${instructions}\n\n(The above are your agent instructions, from `)).toBe(true);
    }
    await t.expectCleanCluster(ids.agentId);
  });
}
