import { lstat, mkdir, mkdtemp, readFile, readlink, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PAPERCLIP_OPERATIONAL_SKILL_KEY } from "@paperclipai/adapter-utils/server-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRuntimeConfig } from "./config.ts";
import { prepareRunDirectory } from "./run-directory.ts";
import { planRun } from "./run-plan.ts";
import { materializeRunSkills, resolveRunSkills } from "./run-skills.ts";
import { ALLOWED_FILE_ROOTS_ENV, serverPathPolicy } from "./server-paths.ts";
import { minimalAgent } from "./testing/minimal-agent.ts";
import { recordedRun } from "./testing/run-context.ts";

let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), "run-skills-test-")));
});

/** The operator allows `<root>/server-skills` (as PAPERCLIP_K8S_ALLOWED_FILE_ROOTS on the server). */
function serverEnv(): NodeJS.ProcessEnv {
  return { [ALLOWED_FILE_ROOTS_ENV]: path.join(root, "server-skills") };
}

function skillPolicy() {
  return serverPathPolicy("skills", { instanceRoot: path.join(root, "instance"), companyId: "company-1", agentId: "agent-1", env: serverEnv() });
}
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A skill directory on the "server": SKILL.md plus a nested script. */
async function skillSource(name: string): Promise<string> {
  const dir = path.join(root, "server-skills", name);
  await mkdir(path.join(dir, "scripts"), { recursive: true });
  await writeFile(path.join(dir, "SKILL.md"), `---\nname: ${name}\ndescription: ${name} skill\n---\nUse ${name}.\n`);
  await writeFile(path.join(dir, "scripts", "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o700 });
  return dir;
}

function entry(key: string, source: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { key, runtimeName: key.split("/").pop(), source, ...extra };
}

describe("resolveRunSkills", () => {
  it("brings no skills when Paperclip passed no runtime skills", async () => {
    expect(await resolveRunSkills({ paperclipSkillSync: { desiredSkills: ["acme/review"] } }, skillPolicy())).toEqual({ skills: [], notes: [] });
  });

  it("takes the desired skills plus Paperclip's operational skill, and says why others are left out", async () => {
    const review = await skillSource("review");
    const operational = await skillSource("paperclip");
    const resolved = await resolveRunSkills({
      paperclipRuntimeSkills: [
        entry(PAPERCLIP_OPERATIONAL_SKILL_KEY, operational),
        entry("acme/review", review),
        entry("acme/unwanted", review),
        entry("acme/gone", review, { sourceStatus: "missing", missingDetail: "version deleted" }),
        entry("acme/bad-name", review, { runtimeName: "../escape" }),
        entry("acme/relative", "skills/relative"),
      ],
      paperclipSkillSync: { desiredSkills: ["acme/review", "acme/gone", "acme/bad-name", "acme/relative", "acme/unknown"] },
    }, skillPolicy());
    expect(resolved.skills).toEqual([
      { key: PAPERCLIP_OPERATIONAL_SKILL_KEY, runtimeName: "paperclip", source: operational },
      { key: "acme/review", runtimeName: "review", source: review },
    ]);
    expect(resolved.notes).toEqual([
      expect.stringMatching(/"acme\/gone".*files are unavailable: version deleted/),
      expect.stringMatching(/"acme\/bad-name".*not a safe directory name/),
      expect.stringMatching(/"acme\/relative".*not an absolute path/),
      expect.stringMatching(/"acme\/unknown".*Paperclip did not provide it/),
    ]);
  });

  it("an explicit empty choice still mounts nothing but the operational skill", async () => {
    const operational = await skillSource("paperclip");
    const resolved = await resolveRunSkills({
      paperclipRuntimeSkills: [entry(PAPERCLIP_OPERATIONAL_SKILL_KEY, operational), entry("acme/review", await skillSource("review"))],
      paperclipSkillSync: { desiredSkills: [] },
    }, skillPolicy());
    expect(resolved.skills.map((skill) => skill.runtimeName)).toEqual(["paperclip"]);
  });

  it("refuses sources outside the allowed roots, in the server's private places, or linked out of a root", async () => {
    const review = await skillSource("review");
    const outside = path.join(root, "elsewhere", "stolen");
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "SKILL.md"), "---\nname: stolen\n---\n");
    await symlink(outside, path.join(root, "server-skills", "linked"));
    const library = path.join(root, "instance", "skills", "company-1", "lib");
    await mkdir(library, { recursive: true });
    const resolved = await resolveRunSkills({
      paperclipRuntimeSkills: [
        entry("acme/review", review),
        entry("acme/library", library),
        entry("acme/outside", outside),
        entry("acme/linked", path.join(root, "server-skills", "linked")),
        entry("acme/proc", "/proc/self"),
        entry("acme/secrets", path.join(root, "instance", "secrets")),
      ],
      paperclipSkillSync: { desiredSkills: ["acme/review", "acme/library", "acme/outside", "acme/linked", "acme/proc", "acme/secrets"] },
    }, skillPolicy());
    expect(resolved.skills.map((skill) => skill.key)).toEqual(["acme/review", "acme/library"]);
    expect(resolved.notes).toEqual([
      expect.stringMatching(/"acme\/outside".*refused: it is outside the allowed roots for skills/),
      expect.stringMatching(/"acme\/linked".*refused: it is a link to .*elsewhere\/stolen, and it is outside the allowed roots/),
      expect.stringMatching(/"acme\/proc".*refused: it lies in \/proc/),
      expect.stringMatching(/"acme\/secrets".*refused: it lies in .*instance\/secrets/),
    ]);
  });
});

describe("materializeRunSkills", () => {
  it("copies each skill, readable by any uid, and links it where Claude Code's --add-dir looks", async () => {
    const source = await skillSource("review");
    const skillsDir = path.join(root, "run", "skills");
    await mkdir(path.dirname(skillsDir));
    const notes = await materializeRunSkills(skillsDir, [{ key: "acme/review", runtimeName: "review", source }]);
    expect(notes).toEqual([]);
    const copy = path.join(skillsDir, "review");
    expect(await readFile(path.join(copy, "SKILL.md"), "utf8")).toContain("Use review.");
    expect((await stat(path.join(copy, "SKILL.md"))).mode & 0o777).toBe(0o644);
    expect((await stat(path.join(copy, "scripts", "run.sh"))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(copy, "scripts"))).mode & 0o777).toBe(0o755);
    expect((await lstat(copy)).isSymbolicLink()).toBe(false);
    const link = path.join(skillsDir, ".claude", "skills", "review");
    expect(await readlink(link)).toBe(path.join("..", "..", "review"));
    expect(await readFile(path.join(link, "SKILL.md"), "utf8")).toContain("Use review.");
  });

  it("never follows a symlink inside a skill (it could reach any server file), and says so", async () => {
    const source = await skillSource("review");
    const secret = path.join(root, "server-secret");
    await writeFile(secret, "do not copy");
    await symlink(secret, path.join(source, "leak.txt"));
    await symlink(root, path.join(source, "scripts", "leak-dir"));
    const skillsDir = path.join(root, "skills");
    const notes = await materializeRunSkills(skillsDir, [{ key: "acme/review", runtimeName: "review", source }]);
    expect(notes).toEqual(['Skill "acme/review": left out symlinks leak.txt, scripts/leak-dir.']);
    await expect(lstat(path.join(skillsDir, "review", "leak.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(lstat(path.join(skillsDir, "review", "scripts", "leak-dir"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("fails naming the skill when its source is gone", async () => {
    await expect(
      materializeRunSkills(path.join(root, "skills"), [{ key: "acme/gone", runtimeName: "gone", source: path.join(root, "nope") }]),
    ).rejects.toThrow(/acme\/gone.*nope/);
  });
});

describe("a run's skills, from config to the run directory", () => {
  const agent = minimalAgent();
  const inputs = agent.commandInputs;

  async function plan(config: Record<string, unknown>) {
    const sharedRoot = path.join(root, "shared");
    const parsed = parseRuntimeConfig(config, { PAPERCLIP_HOME: path.join(sharedRoot, "home") });
    if (!parsed.ok) throw new Error(parsed.message);
    const run = recordedRun({ adapterType: agent.type, config, taskId: null });
    const placement = { namespace: "default", serverImage: null, sharedVolume: null, imagePullSecrets: [], serverContainer: null, source: "config" as const };
    return planRun(agent, run.ctx, parsed.config, placement, { claimName: "data", mountPath: sharedRoot }, "example/agent:1", serverEnv());
  }

  it("passes the run's skills directory to the command and copies the skills there before the Job", async () => {
    inputs.length = 0;
    const source = await skillSource("review");
    const planned = await plan({
      paperclipRuntimeSkills: [entry("acme/review", source)],
      paperclipSkillSync: { desiredSkills: ["acme/review"] },
    });
    expect(inputs[0]?.skillsDir).toBe(planned.runDirectory.skills);
    expect(planned.skills).toEqual([{ key: "acme/review", runtimeName: "review", source }]);
    const prepared = await prepareRunDirectory(planned.runDirectory, { prompt: "p", skills: planned.skills });
    expect(prepared.notes).toEqual([]);
    expect(await readFile(path.join(planned.runDirectory.skills, "review", "SKILL.md"), "utf8")).toContain("Use review.");
    expect(await readFile(path.join(planned.runDirectory.skills, ".claude", "skills", "review", "scripts", "run.sh"), "utf8")).toContain("echo hi");
  });

  it("no skills: skillsDir is null and no skills directory is made", async () => {
    inputs.length = 0;
    const planned = await plan({});
    expect(inputs[0]?.skillsDir).toBeNull();
    await prepareRunDirectory(planned.runDirectory, { prompt: "p", skills: planned.skills });
    await expect(stat(planned.runDirectory.skills)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
