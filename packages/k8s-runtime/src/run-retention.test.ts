import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runDirectoryFor } from "./run-directory.ts";
import { STALE_RUN_DIRECTORY_MS, isRunDirectoryUnder, readRetainUntil, retainRunDirectory, sweepRunDirectories } from "./run-retention.ts";

let root: string;
let runsRoot: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "run-retention-test-"));
  runsRoot = path.join(root, "instance", "data", "k8s-runs");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const NOW = Date.parse("2026-06-01T12:00:00Z");
const HOUR = 60 * 60_000;

/** A run directory with output files, all last touched at `touchedAt`. */
async function runDir(runId: string, touchedAt: number, agentId = "agent-1"): Promise<string> {
  const run = runDirectoryFor({ instanceRoot: path.join(root, "instance"), companyId: "company-1", agentId, runId });
  await mkdir(run.input, { recursive: true });
  await mkdir(run.output, { recursive: true });
  await writeFile(run.stdout, "{}\n");
  await writeFile(run.prompt, "p");
  const when = new Date(touchedAt);
  for (const file of [run.stdout, run.prompt, run.input, run.output, run.dir]) await utimes(file, when, when);
  return run.dir;
}

async function exists(dir: string): Promise<boolean> {
  return stat(dir).then(
    () => true,
    () => false,
  );
}

describe("isRunDirectoryUnder", () => {
  it("accepts exactly <runsRoot>/<company>/<agent>/<run> with safe segments", () => {
    expect(isRunDirectoryUnder("/i/data/k8s-runs", "/i/data/k8s-runs/c-1/a_2/r-3")).toBe(true);
    expect(isRunDirectoryUnder("/i/data/k8s-runs/", "/i/data/k8s-runs/c/a/r/")).toBe(true);
  });

  it.each([
    ["the runs root itself", "/i/data/k8s-runs"],
    ["an agent directory", "/i/data/k8s-runs/c/a"],
    ["the agent's HOME", "/i/data/k8s-runs/c/a/.home"],
    ["a file inside a run", "/i/data/k8s-runs/c/a/r/stdout"],
    ["a path escaping with ..", "/i/data/k8s-runs/c/a/../../../etc"],
    ["a sibling tree", "/i/data/other/c/a/r"],
    ["a relative path", "c/a/r"],
    ["a dotted segment", "/i/data/k8s-runs/c/a/r.1"],
  ])("refuses %s", (_, dir) => {
    expect(isRunDirectoryUnder("/i/data/k8s-runs", dir)).toBe(false);
  });
});

describe("retain-until", () => {
  it("round-trips the deadline; a missing or garbled file reads as none", async () => {
    const dir = await runDir("run-1", NOW);
    const run = runDirectoryFor({ instanceRoot: path.join(root, "instance"), companyId: "company-1", agentId: "agent-1", runId: "run-1" });
    expect(await readRetainUntil(dir)).toBeNull();
    await retainRunDirectory(run, NOW + HOUR);
    expect(await readRetainUntil(dir)).toBe(NOW + HOUR);
    await writeFile(run.retainUntil, "tomorrow");
    expect(await readRetainUntil(dir)).toBeNull();
  });
});

describe("sweepRunDirectories", () => {
  it("removes expired retentions and stale left-overs; keeps live, retained, fresh runs and HOME", async () => {
    const expired = await runDir("expired", NOW - 3 * HOUR);
    await writeFile(path.join(expired, "retain-until"), String(NOW - HOUR));
    const retained = await runDir("retained", NOW - 48 * HOUR);
    await writeFile(path.join(retained, "retain-until"), String(NOW + HOUR));
    const stale = await runDir("stale", NOW - STALE_RUN_DIRECTORY_MS - HOUR);
    const fresh = await runDir("fresh", NOW - HOUR);
    const live = await runDir("live", NOW - 72 * HOUR);
    const home = path.join(runsRoot, "company-1", "agent-1", ".home");
    await mkdir(home);
    await utimes(home, new Date(0), new Date(0));

    const removed = await sweepRunDirectories({ runsRoot, now: NOW, liveRunDirectories: new Set([live]) });

    expect(removed.map((entry) => entry.dir).sort()).toEqual([expired, stale].sort());
    expect(removed.find((entry) => entry.dir === expired)?.reason).toMatch(/kept until/);
    expect(removed.find((entry) => entry.dir === stale)?.reason).toMatch(/untouched since/);
    for (const kept of [retained, fresh, live, home]) expect(await exists(kept)).toBe(true);
  });

  it("a run still writing output is not stale, however old its directory", async () => {
    const dir = await runDir("long-run", NOW - 5 * STALE_RUN_DIRECTORY_MS);
    const recent = new Date(NOW - HOUR);
    await utimes(path.join(dir, "output", "stdout"), recent, recent);
    expect(await sweepRunDirectories({ runsRoot, now: NOW, liveRunDirectories: new Set() })).toEqual([]);
    expect(await exists(dir)).toBe(true);
  });

  it("never follows a symlink in the tree or touches anything outside the runs root", async () => {
    const outside = path.join(root, "precious");
    await mkdir(outside);
    await writeFile(path.join(outside, "keep"), "x");
    await utimes(outside, new Date(0), new Date(0));
    await mkdir(path.join(runsRoot, "company-1", "agent-1"), { recursive: true });
    await symlink(outside, path.join(runsRoot, "company-1", "agent-1", "linked-run"));
    await symlink(path.join(root, "instance"), path.join(runsRoot, "company-2"));
    expect(await sweepRunDirectories({ runsRoot, now: NOW, liveRunDirectories: new Set() })).toEqual([]);
    expect(await readdir(outside)).toEqual(["keep"]);
  });

  it("a missing runs root is nothing to sweep", async () => {
    expect(await sweepRunDirectories({ runsRoot: path.join(root, "none"), now: NOW, liveRunDirectories: new Set() })).toEqual([]);
  });
});
