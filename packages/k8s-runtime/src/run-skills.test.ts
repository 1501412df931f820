import { lstat, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PAPERCLIP_OPERATIONAL_SKILL_KEY } from "@paperclipai/adapter-utils/server-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRuntimeConfig } from "./config.ts";
import { prepareRunDirectory } from "./run-directory.ts";
import { planRun } from "./run-plan.ts";
import type { SkillsDelivery } from "./agent.ts";
import { materializeRunSkills, placeSkills, resolveRunSkills } from "./run-skills.ts";
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
  it("copies each skill under the layout's subdirectory, readable by any uid, every directory on the way traversable", async () => {
    const source = await skillSource("review");
    const skillsDir = path.join(root, "run", "skills");
    await mkdir(path.dirname(skillsDir));
    const notes = await materializeRunSkills(skillsDir, path.join(".claude", "skills"), [{ key: "acme/review", runtimeName: "review", source }]);
    expect(notes).toEqual([]);
    const copy = path.join(skillsDir, ".claude", "skills", "review");
    expect(await readFile(path.join(copy, "SKILL.md"), "utf8")).toContain("Use review.");
    expect((await stat(path.join(copy, "SKILL.md"))).mode & 0o777).toBe(0o644);
    expect((await stat(path.join(copy, "scripts", "run.sh"))).mode & 0o777).toBe(0o755);
    for (const dir of [skillsDir, path.join(skillsDir, ".claude"), path.dirname(copy), copy, path.join(copy, "scripts")]) {
      expect((await stat(dir)).mode & 0o777).toBe(0o755);
    }
    expect((await lstat(copy)).isSymbolicLink()).toBe(false);
    await expect(lstat(path.join(skillsDir, "review"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("never follows a symlink inside a skill (it could reach any server file), and says so", async () => {
    const source = await skillSource("review");
    const secret = path.join(root, "server-secret");
    await writeFile(secret, "do not copy");
    await symlink(secret, path.join(source, "leak.txt"));
    await symlink(root, path.join(source, "scripts", "leak-dir"));
    const skillsDir = path.join(root, "skills");
    const notes = await materializeRunSkills(skillsDir, "", [{ key: "acme/review", runtimeName: "review", source }]);
    expect(notes).toEqual(['Skill "acme/review": left out symlinks leak.txt, scripts/leak-dir.']);
    await expect(lstat(path.join(skillsDir, "review", "leak.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(lstat(path.join(skillsDir, "review", "scripts", "leak-dir"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("fails naming the skill when its source is gone", async () => {
    await expect(
      materializeRunSkills(path.join(root, "skills"), "", [{ key: "acme/gone", runtimeName: "gone", source: path.join(root, "nope") }]),
    ).rejects.toThrow(/acme\/gone.*nope/);
  });
});

describe("placeSkills", () => {
  it("refuses a home layout path that is absolute or climbs out of HOME", () => {
    for (const homePath of ["/etc/skills", "../skills", ".codex/../../x", "", "a//b", "./skills"]) {
      expect(() => placeSkills({ kind: "home", homePath }, "/run/input/skills", "/agent/.home")).toThrow(/homePath .* must be a relative path inside HOME/);
    }
  });
});

describe("a run's skills, from config to the run directory, as the agent declares", () => {
  async function plan(config: Record<string, unknown>, skillsDelivery: SkillsDelivery) {
    const agent = minimalAgent({ skillsDelivery });
    const sharedRoot = path.join(root, "shared");
    const parsed = parseRuntimeConfig(config, { PAPERCLIP_HOME: path.join(sharedRoot, "home") });
    if (!parsed.ok) throw new Error(parsed.message);
    const run = recordedRun({ adapterType: agent.type, config, taskId: null });
    const placement = { namespace: "default", serverImage: null, sharedVolume: null, imagePullSecrets: [], serverContainer: null, source: "config" as const };
    const planned = await planRun(agent, run.ctx, parsed.config, placement, { claimName: "data", mountPath: sharedRoot }, "example/agent:1", serverEnv());
    const prepared = await prepareRunDirectory(planned.runDirectory, { prompt: "p", skills: planned.skills, skillsSubdir: planned.skillsPlacement.subdir });
    const mounts = planned.job.spec?.template.spec?.containers[0]?.volumeMounts ?? [];
    return { planned, prepared, skillsDir: agent.commandInputs[0]?.skillsDir, mounts, sharedRoot };
  }

  async function withReview() {
    const source = await skillSource("review");
    return { paperclipRuntimeSkills: [entry("acme/review", source)], paperclipSkillSync: { desiredSkills: ["acme/review"] } };
  }

  it("directory: the skills directory holds <name>/SKILL.md and is passed to the command", async () => {
    const { planned, prepared, skillsDir, mounts } = await plan(await withReview(), { kind: "directory" });
    expect(skillsDir).toBe(planned.runDirectory.skills);
    expect(planned.skills).toEqual([{ key: "acme/review", runtimeName: "review", source: path.join(root, "server-skills", "review") }]);
    expect(prepared.notes).toEqual([]);
    expect(await readFile(path.join(planned.runDirectory.skills, "review", "SKILL.md"), "utf8")).toContain("Use review.");
    await expect(lstat(path.join(planned.runDirectory.skills, ".claude"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(mounts.map((mount) => mount.mountPath)).not.toContain(planned.runDirectory.skills);
  });

  it("claude-project-dir: the directory passed holds .claude/skills/<name>, the copies themselves", async () => {
    const { planned, skillsDir } = await plan(await withReview(), { kind: "claude-project-dir" });
    expect(skillsDir).toBe(planned.runDirectory.skills);
    const copy = path.join(planned.runDirectory.skills, ".claude", "skills", "review");
    expect((await lstat(copy)).isDirectory()).toBe(true);
    expect(await readFile(path.join(copy, "scripts", "run.sh"), "utf8")).toContain("echo hi");
    await expect(lstat(path.join(planned.runDirectory.skills, "review"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("home: the run's skills directory is mounted read-only at HOME/<homePath>, which the command is told", async () => {
    const { planned, skillsDir, mounts, sharedRoot } = await plan(await withReview(), { kind: "home", homePath: ".codex/skills" });
    const inHome = path.join(planned.runDirectory.home, ".codex", "skills");
    expect(skillsDir).toBe(inHome);
    expect(await readFile(path.join(planned.runDirectory.skills, "review", "SKILL.md"), "utf8")).toContain("Use review.");
    const skillsIndex = mounts.findIndex((mount) => mount.mountPath === inHome);
    expect(mounts[skillsIndex]).toMatchObject({ subPath: path.relative(sharedRoot, planned.runDirectory.skills), readOnly: true });
    // Mounted after HOME itself, so it covers whatever the agent left at that path.
    const homeIndex = mounts.findIndex((mount) => mount.mountPath === planned.runDirectory.home);
    expect(homeIndex).toBeGreaterThanOrEqual(0);
    expect(skillsIndex).toBeGreaterThan(homeIndex);
  });

  it("no skills: skillsDir is null, no skills directory is made, nothing is mounted in HOME", async () => {
    const { planned, skillsDir, mounts } = await plan({}, { kind: "home", homePath: ".codex/skills" });
    expect(skillsDir).toBeNull();
    await expect(stat(planned.runDirectory.skills)).rejects.toMatchObject({ code: "ENOENT" });
    expect(mounts.map((mount) => mount.mountPath)).not.toContain(path.join(planned.runDirectory.home, ".codex", "skills"));
  });
});
