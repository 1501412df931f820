/**
 * Step 5, skills: the agent's desired Paperclip skills, copied into the run directory before the Job starts.
 *
 * Paperclip's heartbeat hands every adapter the company's runtime skills in `config.paperclipRuntimeSkills`
 * (key, runtime name, and the skill's directory on the server's disk, replacing whatever the stored config
 * held) and the agent's choice in `config.paperclipSkillSync.desiredSkills`. The sources live on the server's
 * disk, which the pod cannot see, so they are copied (never linked) onto the shared volume, into the run's
 * read-only `input/skills/`, laid out as the agent's `skillsDelivery` declares (`placeSkills`).
 * The runtime bundles no skills of its own: without `paperclipRuntimeSkills` a run gets none.
 */
import { chmod, copyFile, lstat, mkdir, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import {
  isPaperclipSkillSourceMissing,
  readPaperclipRuntimeSkillEntries,
  resolveLegacyPaperclipDesiredSkillNames,
  type PaperclipSkillEntry,
} from "@paperclipai/adapter-utils/server-utils";
import type { SkillsDelivery } from "./agent.ts";
import { ConfigValueError } from "./config-values.ts";
import { resolveServerPath, type ServerPathPolicy } from "./server-paths.ts";

/** One skill to bring into the run. */
export interface RunSkill {
  key: string;
  /** Directory name in the run's `skills/`, and the name the CLI knows the skill by. */
  runtimeName: string;
  /** The skill's directory on the server. */
  source: string;
}

export interface ResolvedRunSkills {
  skills: RunSkill[];
  /** Enabled skills that are not brought into the run, and why (for the run log). */
  notes: string[];
}

/** Where a run's skills go, for one agent's `skillsDelivery`. */
export interface SkillsPlacement {
  /** Path under the run's `skills/` that holds the `<runtimeName>/` copies ("" for `skills/` itself). */
  subdir: string;
  /** What the command is told (`AgentCommandInput.skillsDir`), as the pod sees it. */
  skillsDir: string;
  /** Where the pod mounts the run's `skills/` read-only (the `home` layout), or null. */
  mountPath: string | null;
}

/** A relative path of safe segments (no `..`, no empty or absolute part): what a `home` layout may name. */
const HOME_PATH = /^(?!\.\.?(\/|$))[A-Za-z0-9_.-]+(\/(?!\.\.?(\/|$))[A-Za-z0-9_.-]+)*$/;

/** The placement of a run's skills whose `skills/` directory is `runSkillsDir`, for an agent whose HOME is `home`. */
export function placeSkills(delivery: SkillsDelivery, runSkillsDir: string, home: string): SkillsPlacement {
  switch (delivery.kind) {
    case "directory":
      return { subdir: "", skillsDir: runSkillsDir, mountPath: null };
    case "claude-project-dir":
      return { subdir: path.join(".claude", "skills"), skillsDir: runSkillsDir, mountPath: null };
    case "home": {
      if (!HOME_PATH.test(delivery.homePath)) {
        throw new Error(`the agent's skillsDelivery.homePath ${JSON.stringify(delivery.homePath)} must be a relative path inside HOME, without "." or ".." segments`);
      }
      const mountPath = path.join(home, delivery.homePath);
      return { subdir: "", skillsDir: mountPath, mountPath };
    }
  }
}

/** A runtime name becomes a directory name: one safe segment, never hidden. */
const RUNTIME_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * The skills this run should carry: the agent's desired skills (Paperclip's operational skill first, as its
 * local adapters do) among the entries Paperclip provided, minus those whose files are unavailable or whose
 * source directory `sources` (the server-path policy for skills) refuses. A kept skill's `source` is its real
 * path, every symbolic link resolved.
 */
export async function resolveRunSkills(config: Readonly<Record<string, unknown>>, sources: ServerPathPolicy): Promise<ResolvedRunSkills> {
  // Without Paperclip's list, adapter-utils would fall back to skills bundled next to the calling module; the
  // runtime bundles none, so there is nothing to resolve.
  if (!Array.isArray(config.paperclipRuntimeSkills)) return { skills: [], notes: [] };
  const available = await readPaperclipRuntimeSkillEntries(config, import.meta.dirname);
  const skills: RunSkill[] = [];
  const notes: string[] = [];
  for (const key of resolveLegacyPaperclipDesiredSkillNames(config, available)) {
    const entry = available.find((candidate) => candidate.key === key);
    let problem = entry ? skillProblem(entry, skills) : "Paperclip did not provide it";
    let source: string | null = null;
    if (entry && problem === null) {
      try {
        source = resolveServerPath(sources, "paperclipRuntimeSkills", entry.source);
      } catch (error) {
        if (!(error instanceof ConfigValueError)) throw error;
        problem = error.message;
      }
    }
    if (entry && source !== null) skills.push({ key: entry.key, runtimeName: entry.runtimeName, source });
    else notes.push(`Skill "${key}" is enabled for this agent but is not mounted: ${problem}.`);
  }
  return { skills, notes };
}

function skillProblem(entry: PaperclipSkillEntry, accepted: readonly RunSkill[]): string | null {
  if (isPaperclipSkillSourceMissing(entry)) return `its files are unavailable${entry.missingDetail ? `: ${entry.missingDetail}` : ""}`;
  if (!RUNTIME_NAME.test(entry.runtimeName)) return `its name ${JSON.stringify(entry.runtimeName)} is not a safe directory name`;
  const name = entry.runtimeName.toLowerCase();
  if (accepted.some((skill) => skill.runtimeName.toLowerCase() === name)) return `another enabled skill is already named ${entry.runtimeName}`;
  if (!path.isAbsolute(entry.source)) return `its source ${JSON.stringify(entry.source)} is not an absolute path`;
  return null;
}

/**
 * Copies `skills` into `skillsDir/subdir/<runtimeName>` (directories created here). Files keep only their
 * executable bit and become world-readable, so the pod's user can read them whatever its uid. Symlinks inside a
 * skill are skipped: followed, they could pull any file of the server into the pod. Returns notes on what was
 * left out; throws when a skill cannot be copied.
 */
export async function materializeRunSkills(skillsDir: string, subdir: string, skills: readonly RunSkill[]): Promise<string[]> {
  const notes: string[] = [];
  let copiesDir = skillsDir;
  for (const segment of ["", ...(subdir === "" ? [] : subdir.split(path.sep))]) {
    copiesDir = path.join(copiesDir, segment);
    await mkdir(copiesDir, { mode: 0o755 });
    await chmod(copiesDir, 0o755);
  }
  for (const skill of skills) {
    const root = await realpath(skill.source).catch((error: unknown) => {
      throw new Error(`skill "${skill.key}": cannot read its source ${skill.source}: ${describe(error)}`);
    });
    if (!(await stat(root)).isDirectory()) throw new Error(`skill "${skill.key}": its source ${skill.source} is not a directory`);
    const skipped: string[] = [];
    await copyTree(root, path.join(copiesDir, skill.runtimeName), "", skipped);
    if (skipped.length > 0) notes.push(`Skill "${skill.key}": left out symlinks ${skipped.join(", ")}.`);
  }
  return notes;
}

async function copyTree(source: string, target: string, relative: string, skipped: string[]): Promise<void> {
  await mkdir(target, { mode: 0o755 });
  await chmod(target, 0o755);
  const entries = await readdir(source, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    const name = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      await copyTree(from, to, name, skipped);
    } else if (entry.isFile()) {
      const executable = ((await lstat(from)).mode & 0o111) !== 0;
      await copyFile(from, to);
      await chmod(to, executable ? 0o755 : 0o644);
    } else {
      // Symlinks, sockets, devices: never followed or recreated.
      skipped.push(name);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
