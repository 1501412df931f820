/**
 * Step 13, run files after the run: a failed run's directory may be kept for diagnosis until a deadline
 * (`retainRunFilesOnFailureSec`), recorded in its `retain-until` file; the reaper's sweep removes it once that
 * has passed, and removes directories a crashed server left behind.
 */
import { lstat, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isSafePathSegment } from "./names.ts";
import type { RunDirectory } from "./run-directory.ts";
import { readRegularFile } from "./safe-file.ts";

/** A run directory without `retain-until`, owned by no live Job, is left-over once untouched this long. */
export const STALE_RUN_DIRECTORY_MS = 24 * 60 * 60_000;

const RETAIN_UNTIL_FILE = "retain-until";

/** Only `<runsRoot>/<company>/<agent>/<run>` with safe segments: an annotation or a link must not point the reaper elsewhere. */
export function isRunDirectoryUnder(runsRoot: string, dir: string): boolean {
  const segments = path.relative(path.resolve(runsRoot), path.resolve(dir)).split(path.sep);
  return segments.length === 3 && segments.every(isSafePathSegment);
}

/**
 * Records that `run`'s files stay until `untilMs` (epoch milliseconds), in the run directory's top level,
 * which no pod mounts (a run of the flat layout of earlier versions is marked all the same: its pod is done).
 */
export async function retainRunDirectory(run: RunDirectory, untilMs: number): Promise<void> {
  await rm(run.retainUntil, { force: true });
  await writeFile(run.retainUntil, `${Math.round(untilMs)}\n`, { mode: 0o644, flag: "wx" });
}

/** The deadline in `dir/retain-until`; null when the file is missing, unsafe, or holds no epoch-ms number. */
export async function readRetainUntil(dir: string): Promise<number | null> {
  const text = await readRegularFile(path.join(dir, RETAIN_UNTIL_FILE), 64).catch(() => null);
  if (text === null) return null;
  const trimmed = text.trim();
  return /^\d{1,16}$/.test(trimmed) ? Number(trimmed) : null;
}

/** Why a run directory goes, or null when it stays. */
async function removalReason(dir: string, now: number, staleAfterMs = STALE_RUN_DIRECTORY_MS): Promise<string | null> {
  const retainUntil = await readRetainUntil(dir);
  if (retainUntil !== null) return now >= retainUntil ? `kept until ${new Date(retainUntil).toISOString()}` : null;
  const lastActivity = await lastModified(dir);
  if (lastActivity === null) return null;
  return now - lastActivity >= staleAfterMs ? `untouched since ${new Date(lastActivity).toISOString()}` : null;
}

/** Newest mtime of the directory, its entries and those of its `output/` (a live run keeps appending to `stdout`). Never follows links. */
async function lastModified(dir: string): Promise<number | null> {
  const self = await lstat(dir).catch(() => null);
  if (!self?.isDirectory()) return null;
  let newest = self.mtimeMs;
  for (const parent of [dir, path.join(dir, "output")]) {
    for (const name of await readdir(parent).catch(() => [])) {
      const info = await lstat(path.join(parent, name)).catch(() => null);
      if (info) newest = Math.max(newest, info.mtimeMs);
    }
  }
  return newest;
}

/** The run directories present under `runsRoot` (`<company>/<agent>/<run>`, real directories only). */
async function listRunDirectories(runsRoot: string): Promise<string[]> {
  const children = async (dir: string): Promise<string[]> =>
    (await readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter((entry) => entry.isDirectory() && isSafePathSegment(entry.name))
      .map((entry) => path.join(dir, entry.name));
  const found: string[] = [];
  for (const company of await children(runsRoot)) {
    for (const agent of await children(company)) found.push(...(await children(agent)));
  }
  return found;
}

/**
 * Removes run directories under `runsRoot` whose `retain-until` has passed, and those without one that nobody
 * has touched for `staleAfterMs` (left by a server that crashed or failed to clean up). Never a directory in
 * `liveRunDirectories` (a Job still uses it), never an agent's `.home`, never anything outside `runsRoot`.
 * Returns what it removed, each with the reason.
 */
export async function sweepRunDirectories(input: {
  runsRoot: string;
  now: number;
  liveRunDirectories: ReadonlySet<string>;
  staleAfterMs?: number;
}): Promise<{ dir: string; reason: string }[]> {
  const live = new Set([...input.liveRunDirectories].map((dir) => path.resolve(dir)));
  const removed: { dir: string; reason: string }[] = [];
  for (const dir of await listRunDirectories(input.runsRoot)) {
    if (live.has(path.resolve(dir)) || !isRunDirectoryUnder(input.runsRoot, dir)) continue;
    const reason = await removalReason(dir, input.now, input.staleAfterMs);
    if (reason === null) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push({ dir, reason });
  }
  return removed;
}
