/**
 * The run directory on the shared volume, split by who may write what:
 *
 *   <instanceRoot>/data/k8s-runs/<companyId>/<agentId>/
 *     .home/            the agent's HOME, kept across runs: the pod mounts it read-write
 *     <runId>/          the server's alone: never mounted into a pod
 *       input/          prompt, instructions, skills, run files: written by the server before the Job
 *                       exists, mounted read-only
 *       output/         stdout, stderr, exit-code: the only run files the pod can write
 *       retain-until    a failed run's retention deadline (server-side, out of the pod's reach)
 *
 * The pod mounts `input/`, `output/` and HOME (and its workspace) as `subPath` mounts at the same absolute
 * paths as on the server, so paths are identical on both sides, and it sees nothing else of the volume:
 * not Paperclip's instance files, not other agents' or companies' runs. Whatever is in `output/` was put
 * there by a possibly hostile agent: the server reads it only through `safe-file.ts`.
 */
import { lstat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { OPEN_DIRECTORY_FLAGS, pooledFileCalls, type FileCalls } from "./file-calls.ts";
import { materializeRunSkills, type RunSkill } from "./run-skills.ts";
import { assertSafePathSegment } from "./names.ts";
import { openRegularFile, readRegularFile, UnsafeFileError } from "./safe-file.ts";

/** File names the runtime owns inside `input/`; run files may not replace them or use them as directories. */
const RESERVED_NAMES = new Set(["prompt", "instructions.md", "skills"]);

/** An exit-code file holds a number and a newline; anything bigger is not one. */
const MAX_EXIT_CODE_FILE_BYTES = 64;

/**
 * How a run directory is laid out. `split` (input/ + output/) since agent pods stopped mounting the whole
 * volume; `flat` is how Jobs of earlier versions wrote it, still followed when such a Job is reattached.
 */
export type RunDirectoryLayout = "split" | "flat";

/** Job annotation naming the layout of its run directory; Jobs without it are `flat`. */
export const ANNOTATION_RUN_LAYOUT = "paperclip.io/run-layout";

/** A run file name is one or more safe segments joined by `/` (`config/opencode.json`). */
const RUN_FILE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export interface RunIds {
  companyId: string;
  agentId: string;
  runId: string;
}

/** Thrown by `prepareRunDirectory` when the run directory already exists: it may hold a live run's output. */
export class RunDirectoryExistsError extends Error {
  readonly dir: string;
  constructor(dir: string) {
    super(`run directory ${dir} already exists; reattach with openExistingRunDirectory or remove it first`);
    this.name = "RunDirectoryExistsError";
    this.dir = dir;
  }
}

/** Absolute paths of one run's files. */
export interface RunDirectory {
  dir: string;
  layout: RunDirectoryLayout;
  /** Written by the server before the Job starts; read-only in the pod. */
  input: string;
  /** The only run directory the pod can write. */
  output: string;
  prompt: string;
  /** NDJSON the agent prints, appended by the pod. */
  stdout: string;
  stderr: string;
  /** Written atomically by the pod's wrapper when the agent exits. */
  exitCode: string;
  instructions: string;
  /** The run's desired skills (see `run-skills.ts`). */
  skills: string;
  /** Epoch milliseconds until which a failed run's files are kept (see `run-retention.ts`). */
  retainUntil: string;
  /** The agent's HOME, shared by all its runs (see `agentHomeFor`). */
  home: string;
}

function checkedSegment(idName: string, idValue: string): string {
  assertSafePathSegment(idName, idValue);
  return idValue;
}

/** `<instanceRoot>/data/k8s-runs`: every run directory and agent HOME lies below it, on one filesystem. */
export function runsRootFor(instanceRoot: string): string {
  return join(instanceRoot, "data", "k8s-runs");
}

function agentDirFor(instanceRoot: string, companyId: string, agentId: string): string {
  return join(runsRootFor(instanceRoot), checkedSegment("companyId", companyId), checkedSegment("agentId", agentId));
}

/**
 * The agent's HOME: `<instanceRoot>/data/k8s-runs/<companyId>/<agentId>/.home`. It outlives each Job so the
 * CLI finds its earlier sessions (claude keeps them under `~/.claude`, opencode under `~/.local/share`) and
 * can resume them. The leading dot keeps it apart from run ids, which cannot contain dots.
 */
export function agentHomeFor(ids: { instanceRoot: string; companyId: string; agentId: string }): string {
  return join(agentDirFor(ids.instanceRoot, ids.companyId, ids.agentId), ".home");
}

/** Paths of one run's directory, `<instanceRoot>/data/k8s-runs/<companyId>/<agentId>/<runId>/`; throws `UnsafeIdError`. */
export function runDirectoryFor(ids: RunIds & { instanceRoot: string }, layout: RunDirectoryLayout = "split"): RunDirectory {
  const agentDir = agentDirFor(ids.instanceRoot, ids.companyId, ids.agentId);
  const dir = join(agentDir, checkedSegment("runId", ids.runId));
  const input = layout === "split" ? join(dir, "input") : dir;
  const output = layout === "split" ? join(dir, "output") : dir;
  return {
    dir,
    layout,
    input,
    output,
    prompt: join(input, "prompt"),
    stdout: join(output, "stdout"),
    stderr: join(output, "stderr"),
    exitCode: join(output, "exit-code"),
    instructions: join(input, "instructions.md"),
    skills: join(input, "skills"),
    retainUntil: join(dir, "retain-until"),
    home: join(agentDir, ".home"),
  };
}

export interface PrepareRunDirectoryOptions {
  prompt: string;
  /** Content of `instructions.md`. */
  instructions?: string;
  /** Extra files, relative name → content; names like `config/opencode.json` create subdirectories. */
  runFiles?: Record<string, string>;
  /** Skills copied into `skills/`, under `skillsSubdir` (the agent's layout, `placeSkills`; default none). */
  skills?: readonly RunSkill[];
  skillsSubdir?: string;
  /** The pod's uid/gid; when the server runs as root, `output/` and HOME are handed to them. */
  ownerUid?: number;
  ownerGid?: number;
  /** The agent's working directory when it lies on the shared volume: created (and handed over) when missing. */
  workspace?: string;
  /**
   * A directory inside HOME where the pod mounts the run's skills (a `home` skills layout). It and every level above
   * it up to HOME are created when missing and handed over like HOME: otherwise the kubelet creates them, as root,
   * and the CLI can no longer write beside the mount (Codex keeps its threads in `~/.codex`, above `~/.codex/skills`).
   */
  homeMountPoint?: string;
}

/**
 * How the pod, whose uid may differ from the server's, gets write access to `output/`, HOME and a new
 * workspace (the only places it writes):
 * - server is root and the pod's uid is known: chown them to it and keep them private (0700);
 * - the pod runs as the server's own uid: private directories, nothing to hand over;
 * - otherwise (a non-root server cannot chown, and the pod's uid may be unknown): they are world-writable
 *   (0777). That opens them to no other pod: each pod mounts only its own (see the module comment).
 * `input/` stays the server's, world-readable, and is mounted read-only.
 */
type Access = { kind: "chown"; uid: number; gid: number } | { kind: "private" } | { kind: "shared" };

function accessFor(ownerUid: number | undefined, ownerGid: number | undefined): Access {
  const serverUid = process.getuid?.();
  if (ownerUid === undefined || serverUid === undefined) return { kind: "shared" };
  if (ownerUid === serverUid) return { kind: "private" };
  if (serverUid === 0) return { kind: "chown", uid: ownerUid, gid: ownerGid ?? ownerUid };
  return { kind: "shared" };
}

/** Hands a directory the server just created to the pod's user; through its descriptor, so never via a link. */
async function handOver(fs: FileCalls, dir: string, access: Access): Promise<void> {
  const handle = await fs.open(dir, OPEN_DIRECTORY_FLAGS);
  try {
    if (access.kind === "chown") await handle.chown(access.uid, access.gid);
    await handle.chmod(access.kind === "shared" ? 0o777 : 0o700);
  } finally {
    await handle.close();
  }
}

function checkedRunFileName(name: string): string[] {
  const segments = name.split("/");
  if (!segments.every((segment) => RUN_FILE_SEGMENT.test(segment)) || RESERVED_NAMES.has(segments[0] ?? "")) {
    throw new Error(
      `run file name ${JSON.stringify(name)} is not allowed (relative segments of A-Z a-z 0-9 . _ -, not a reserved name)`,
    );
  }
  return segments;
}

/** Creates `dir` and the missing parents, giving the parents we create 0755 so the kubelet can traverse them. */
async function makeDirectory(fs: FileCalls, dir: string): Promise<string | undefined> {
  const firstCreated = await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  if (firstCreated === undefined) return undefined;
  // mkdir's mode is filtered by the umask; set traversal explicitly on every level we created.
  for (let level = dir; level.length >= firstCreated.length; level = dirname(level)) {
    await fs.chmod(level, 0o755);
  }
  return firstCreated;
}

/** Creates a directory the pod writes (HOME, a workspace) when missing; an existing one is left as it is. */
async function ensureWritableDirectory(fs: FileCalls, dir: string, access: Access): Promise<void> {
  if ((await fs.lstat(dir)) !== null) return;
  await makeDirectory(fs, dir);
  await handOver(fs, dir, access);
}

/**
 * Creates the missing directories from HOME down to `target`, each handed to the pod's user. HOME is the agent's to
 * write: a level that is a link or a file is refused, never followed, since the mount would land where it points.
 */
async function ensureHomeLevels(fs: FileCalls, home: string, target: string, access: Access): Promise<void> {
  const inside = relative(home, target);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) throw new Error(`${target} is not inside the agent's HOME ${home}`);
  let dir = home;
  for (const segment of inside.split(sep)) {
    dir = join(dir, segment);
    const found = await fs.lstat(dir);
    if (found === null) {
      await fs.mkdir(dir, { mode: 0o755 });
      await handOver(fs, dir, access);
    } else if (!found.isDirectory()) {
      throw new Error(`${dir} in the agent's HOME is not a directory (a link or a file there would move the skills mount); remove it`);
    }
  }
}

/**
 * Creates a fresh run directory: `input/` with the prompt (any size), instructions, run files and skills,
 * an empty `output/` handed to the pod's user, and the agent's HOME and workspace when missing. Throws
 * `RunDirectoryExistsError` rather than overwrite an existing run's output. Returns notes for the run log
 * (parts of skills left out). `fs`: the calls of the filesystem it is on (`file-calls.ts`).
 */
export async function prepareRunDirectory(
  run: RunDirectory,
  options: PrepareRunDirectoryOptions,
  fs: FileCalls = pooledFileCalls,
): Promise<{ notes: string[] }> {
  if (run.layout !== "split") throw new Error(`run directory ${run.dir}: new runs use the split layout`);
  const access = accessFor(options.ownerUid, options.ownerGid);
  const runFiles = Object.entries(options.runFiles ?? {}).map(
    ([name, content]) => [checkedRunFileName(name), content] as const,
  );
  await makeDirectory(fs, dirname(run.dir));
  try {
    await fs.mkdir(run.dir, { mode: 0o755 });
  } catch (error) {
    if (isErrnoException(error) && error.code === "EEXIST") throw new RunDirectoryExistsError(run.dir);
    throw error;
  }
  try {
    return { notes: await fillRunDirectory(fs, run, options, access, runFiles) };
  } catch (error) {
    // Leave no half-written directory behind: it would block the next attempt with RunDirectoryExistsError.
    await fs.removeTree(run.dir);
    throw error;
  }
}

async function fillRunDirectory(
  fs: FileCalls,
  run: RunDirectory,
  options: PrepareRunDirectoryOptions,
  access: Access,
  runFiles: (readonly [string[], string])[],
): Promise<string[]> {
  // The run directory itself is fresh and the server's: nothing in it can have been planted.
  await fs.chmod(run.dir, 0o755);
  await fs.mkdir(run.input, { mode: 0o755 });
  await fs.chmod(run.input, 0o755);
  const writeInput = (path: string, content: string) => fs.writeNewFile(path, content, 0o644).then(() => fs.chmod(path, 0o644));
  await writeInput(run.prompt, options.prompt);
  if (options.instructions !== undefined) await writeInput(run.instructions, options.instructions);
  for (const [segments, content] of runFiles) {
    let parent = run.input;
    for (const segment of segments.slice(0, -1)) {
      parent = join(parent, segment);
      if ((await fs.lstat(parent)) === null) {
        await fs.mkdir(parent, { mode: 0o755 });
        await fs.chmod(parent, 0o755);
      }
    }
    await writeInput(join(run.input, ...segments), content);
  }
  const notes = options.skills && options.skills.length > 0 ? await materializeRunSkills(run.skills, options.skillsSubdir ?? "", options.skills) : [];
  await fs.mkdir(run.output, { mode: 0o700 });
  await handOver(fs, run.output, access);
  await ensureWritableDirectory(fs, run.home, access);
  if (options.homeMountPoint !== undefined) await ensureHomeLevels(fs, run.home, options.homeMountPoint, access);
  if (options.workspace !== undefined) await ensureWritableDirectory(fs, options.workspace, access);
  return notes;
}

/** What an existing run directory holds, read without changing anything (reattach). */
export interface ExistingRunDirectory {
  /** Bytes already in `stdout` / `stderr` (0 when the file does not exist yet). */
  stdoutBytes: number;
  stderrBytes: number;
  /** The agent's exit code when it has already exited. */
  exitCode: number | null;
}

/** Opens a run directory for reattaching; never writes. Throws when the directory is missing. */
export async function openExistingRunDirectory(run: RunDirectory): Promise<ExistingRunDirectory> {
  const info = await lstat(run.dir).catch((error: unknown) => {
    if (isErrnoException(error) && error.code === "ENOENT") {
      throw new Error(`run directory ${run.dir} does not exist; the orphaned run's output is gone`);
    }
    throw error;
  });
  if (!info.isDirectory()) throw new Error(`run directory ${run.dir} is not a directory`);
  return {
    stdoutBytes: await agentFileSize(run.stdout),
    stderrBytes: await agentFileSize(run.stderr),
    exitCode: await readExitCodeFile(run.exitCode),
  };
}

/**
 * Reads the exit-code file: null while it does not exist. The wrapper writes it atomically (rename), so a
 * present file is complete. The agent can write there too: a link, FIFO or oversized file is refused
 * (`UnsafeFileError`), and anything but a decimal integer 0-255 is an error naming the file.
 */
export async function readExitCodeFile(path: string, fs: FileCalls = pooledFileCalls): Promise<number | null> {
  const text = await readRegularFile(path, MAX_EXIT_CODE_FILE_BYTES, fs);
  if (text === null) return null;
  const trimmed = text.trim();
  const code = /^\d{1,3}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(code >= 0 && code <= 255)) {
    throw new UnsafeFileError(path, `holds ${JSON.stringify(trimmed.slice(0, 8).replace(/[^\x20-\x7e]/g, "?"))}, not an exit code 0-255`);
  }
  return code;
}

/**
 * Deletes the run directory and everything in it; the agent's HOME stays. Missing is fine. Call it only once
 * the pod has stopped: removing a tree never follows a link it finds, but a pod still running could swap a
 * directory for a link between the check and the removal. `fs`: the calls of the filesystem it is on (on a local
 * one the tree goes in one native pass).
 */
export async function removeRunDirectory(run: RunDirectory, fs: FileCalls = pooledFileCalls): Promise<void> {
  // Refuse a symlink in place of the directory: the removal would not follow it, but say so instead of silently passing.
  const info = await fs.lstat(run.dir);
  if (info === null) return;
  if (!info.isDirectory()) throw new Error(`run directory ${run.dir} is not a directory; not removing it`);
  try {
    await fs.removeTree(run.dir);
  } catch (error) {
    // A last write racing the synchronous removal: the retrying one tries again and reports.
    if (!fs.local) throw error;
    await pooledFileCalls.removeTree(run.dir);
  }
}

/** Size of a file the agent writes; 0 while it does not exist. Refuses links and special files. */
async function agentFileSize(path: string): Promise<number> {
  const handle = await openRegularFile(path);
  if (handle === null) return 0;
  try {
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}
