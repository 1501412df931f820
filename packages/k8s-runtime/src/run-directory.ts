/**
 * The run directory on the shared volume: where the server writes the prompt before the Job starts and
 * where the pod writes `stdout`, `stderr` and `exit-code`. The pod mounts the volume at the same absolute
 * path as the server, so every path here is valid on both sides.
 */
import { chown, chmod, lstat, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { materializeRunSkills, type RunSkill } from "./run-skills.ts";
import { assertSafePathSegment } from "./names.ts";

/** File names the runtime owns inside a run directory; run files may not replace them or use them as directories. */
const RESERVED_NAMES = new Set(["prompt", "stdout", "stderr", "exit-code", "instructions.md", "skills", "retain-until"]);

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

function agentDirFor(instanceRoot: string, companyId: string, agentId: string): string {
  return join(
    instanceRoot,
    "data",
    "k8s-runs",
    checkedSegment("companyId", companyId),
    checkedSegment("agentId", agentId),
  );
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
export function runDirectoryFor(ids: RunIds & { instanceRoot: string }): RunDirectory {
  const agentDir = agentDirFor(ids.instanceRoot, ids.companyId, ids.agentId);
  const dir = join(agentDir, checkedSegment("runId", ids.runId));
  return {
    dir,
    prompt: join(dir, "prompt"),
    stdout: join(dir, "stdout"),
    stderr: join(dir, "stderr"),
    exitCode: join(dir, "exit-code"),
    instructions: join(dir, "instructions.md"),
    skills: join(dir, "skills"),
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
  /** Skills copied into `skills/`. */
  skills?: readonly RunSkill[];
  /** The pod's uid/gid; when the server runs as root the run directory and HOME are handed to them. */
  ownerUid?: number;
  ownerGid?: number;
}

/**
 * How the pod, whose uid may differ from the server's, gets write access:
 * - server is root and the pod's uid is known: chown the directories to it and keep them private (0700);
 * - the pod runs as the server's own uid: private directories, nothing to hand over;
 * - otherwise (a non-root server cannot chown, and the pod's uid may be unknown): the run directory and
 *   HOME are world-writable (0777). Only those two: parents stay 0755, so other runs' files are not
 *   writable, and nothing secret is written here (credentials travel in the per-run Secret).
 */
type Access = { kind: "chown"; uid: number; gid: number } | { kind: "private" } | { kind: "shared" };

function accessFor(ownerUid: number | undefined, ownerGid: number | undefined): Access {
  const serverUid = process.getuid?.();
  if (ownerUid === undefined || serverUid === undefined) return { kind: "shared" };
  if (ownerUid === serverUid) return { kind: "private" };
  if (serverUid === 0) return { kind: "chown", uid: ownerUid, gid: ownerGid ?? ownerUid };
  return { kind: "shared" };
}

async function handOver(path: string, access: Access, isDir: boolean): Promise<void> {
  if (access.kind === "chown") {
    await chown(path, access.uid, access.gid);
    await chmod(path, isDir ? 0o700 : 0o600);
  } else if (access.kind === "private") {
    await chmod(path, isDir ? 0o700 : 0o600);
  } else {
    await chmod(path, isDir ? 0o777 : 0o644);
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

/** Creates `dir` and the missing parents, giving the parents we create 0755 so the pod can traverse them. */
async function makeDirectory(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true, mode: 0o755 });
  if (firstCreated === undefined) return;
  // mkdir's mode is filtered by the umask; set traversal explicitly on every level we created.
  for (let level = dir; level.length >= firstCreated.length; level = dirname(level)) {
    await chmod(level, 0o755);
  }
}

async function ensureAgentHome(home: string, access: Access): Promise<void> {
  const existed = await pathExists(home);
  await makeDirectory(home);
  if (!existed) await handOver(home, access, true);
}

/**
 * Creates a fresh run directory and writes the prompt (any size), instructions, run files and skills, plus the
 * agent's HOME when missing. Throws `RunDirectoryExistsError` rather than overwrite an existing run's output.
 * Returns notes for the run log (parts of skills left out).
 */
export async function prepareRunDirectory(run: RunDirectory, options: PrepareRunDirectoryOptions): Promise<{ notes: string[] }> {
  const access = accessFor(options.ownerUid, options.ownerGid);
  const runFiles = Object.entries(options.runFiles ?? {}).map(
    ([name, content]) => [checkedRunFileName(name), content] as const,
  );
  await makeDirectory(dirname(run.dir));
  try {
    await mkdir(run.dir, { mode: 0o700 });
  } catch (error) {
    if (isErrnoException(error) && error.code === "EEXIST") throw new RunDirectoryExistsError(run.dir);
    throw error;
  }
  try {
    return { notes: await fillRunDirectory(run, options, access, runFiles) };
  } catch (error) {
    // Leave no half-written directory behind: it would block the next attempt with RunDirectoryExistsError.
    await rm(run.dir, { recursive: true, force: true });
    throw error;
  }
}

async function fillRunDirectory(
  run: RunDirectory,
  options: PrepareRunDirectoryOptions,
  access: Access,
  runFiles: (readonly [string[], string])[],
): Promise<string[]> {
  await ensureAgentHome(run.home, access);

  const writeOwned = async (path: string, content: string): Promise<void> => {
    await writeFile(path, content, { flag: "wx", mode: 0o600 });
    await handOver(path, access, false);
  };
  await writeOwned(run.prompt, options.prompt);
  if (options.instructions !== undefined) await writeOwned(run.instructions, options.instructions);
  for (const [segments, content] of runFiles) {
    let parent = run.dir;
    for (const segment of segments.slice(0, -1)) {
      parent = join(parent, segment);
      if (!(await pathExists(parent))) {
        await mkdir(parent, { mode: 0o700 });
        await handOver(parent, access, true);
      }
    }
    await writeOwned(join(run.dir, ...segments), content);
  }
  const notes = options.skills && options.skills.length > 0 ? await materializeRunSkills(run.skills, options.skills) : [];
  // Last: until the run directory is handed over, the pod cannot see half-written files.
  await handOver(run.dir, access, true);
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
  const info = await stat(run.dir).catch((error: unknown) => {
    if (isErrnoException(error) && error.code === "ENOENT") {
      throw new Error(`run directory ${run.dir} does not exist; the orphaned run's output is gone`);
    }
    throw error;
  });
  if (!info.isDirectory()) throw new Error(`run directory ${run.dir} is not a directory`);
  return {
    stdoutBytes: await fileSize(run.stdout),
    stderrBytes: await fileSize(run.stderr),
    exitCode: await readExitCodeFile(run.exitCode),
  };
}

/**
 * Reads the exit-code file: null while it does not exist. The wrapper writes it atomically (rename), so a
 * present file is complete; anything but a decimal integer 0-255 is an error naming the file.
 */
export async function readExitCodeFile(path: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return null;
    throw error;
  }
  const trimmed = text.trim();
  const code = /^\d{1,3}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(code >= 0 && code <= 255)) {
    throw new Error(`exit-code file ${path} holds ${JSON.stringify(trimmed.slice(0, 40))}, not an exit code 0-255`);
  }
  return code;
}

/** Deletes the run directory and everything in it; the agent's HOME stays. Missing is fine. */
export async function removeRunDirectory(run: RunDirectory): Promise<void> {
  // Refuse a symlink in place of the directory: rm would not follow it, but say so instead of silently passing.
  const info = await lstat(run.dir).catch((error: unknown) => {
    if (isErrnoException(error) && error.code === "ENOENT") return null;
    throw error;
  });
  if (info === null) return;
  if (!info.isDirectory()) throw new Error(`run directory ${run.dir} is not a directory; not removing it`);
  // A pod that is still being stopped may write its last bytes while we delete (ENOTEMPTY): retry briefly.
  await rm(run.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return 0;
    throw error;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === "ENOENT") return false;
    throw error;
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}
