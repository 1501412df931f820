import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnsafeIdError } from "./names.ts";
import { localFileCalls, pooledFileCalls } from "./file-calls.ts";
import { UnsafeFileError } from "./safe-file.ts";
import {
  RunDirectoryExistsError,
  agentHomeFor,
  openExistingRunDirectory,
  prepareRunDirectory,
  readExitCodeFile,
  removeRunDirectory,
  runDirectoryFor,
} from "./run-directory.ts";

const ids = { companyId: "company-1", agentId: "agent_7", runId: "3f2c9a4e-1b2d-4c5e-9f00-0123456789ab" };

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "run-dir-test-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Deterministic pseudo-random generator so a failing fuzz case can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("runDirectoryFor", () => {
  it("lays out the run's files: input/ (the server's), output/ (the pod's), retain-until beside them, HOME per agent", () => {
    const run = runDirectoryFor({ instanceRoot: "/paperclip", ...ids });
    const dir = `/paperclip/data/k8s-runs/company-1/agent_7/${ids.runId}`;
    expect(run).toEqual({
      dir,
      layout: "split",
      input: `${dir}/input`,
      output: `${dir}/output`,
      prompt: `${dir}/input/prompt`,
      stdout: `${dir}/output/stdout`,
      stderr: `${dir}/output/stderr`,
      exitCode: `${dir}/output/exit-code`,
      instructions: `${dir}/input/instructions.md`,
      skills: `${dir}/input/skills`,
      retainUntil: `${dir}/retain-until`,
      home: "/paperclip/data/k8s-runs/company-1/agent_7/.home",
    });
    expect(agentHomeFor({ instanceRoot: "/paperclip", companyId: "company-1", agentId: "agent_7" })).toBe(run.home);
  });

  it("keeps the flat layout of earlier versions' Jobs, for reattaching to them", () => {
    const run = runDirectoryFor({ instanceRoot: "/paperclip", ...ids }, "flat");
    const dir = `/paperclip/data/k8s-runs/company-1/agent_7/${ids.runId}`;
    expect([run.input, run.output, run.prompt, run.stdout, run.exitCode]).toEqual([dir, dir, `${dir}/prompt`, `${dir}/stdout`, `${dir}/exit-code`]);
  });

  it.each([
    ["", "runId"],
    ["..", "runId"],
    [".", "runId"],
    ["a/b", "runId"],
    ["../../etc", "runId"],
    ["a\0b", "runId"],
    ["ünïcode", "runId"],
    ["a b", "runId"],
    ["x".repeat(129), "runId"],
    ["home\n", "runId"],
    [".home", "runId"],
  ])("rejects run id %j, naming it", (bad, idName) => {
    expect(() => runDirectoryFor({ instanceRoot: "/r", ...ids, runId: bad })).toThrow(UnsafeIdError);
    try {
      runDirectoryFor({ instanceRoot: "/r", ...ids, runId: bad });
    } catch (error) {
      expect(error).toBeInstanceOf(UnsafeIdError);
      if (error instanceof UnsafeIdError) {
        expect(error.kind).toBe(idName);
        expect(error.id).toBe(bad);
        expect(error.message).toContain("runId");
      }
    }
  });

  it("rejects unsafe company and agent ids too", () => {
    expect(() => runDirectoryFor({ instanceRoot: "/r", ...ids, companyId: ".." })).toThrow(/companyId/);
    expect(() => runDirectoryFor({ instanceRoot: "/r", ...ids, agentId: "a/../b" })).toThrow(/agentId/);
    expect(() => agentHomeFor({ instanceRoot: "/r", companyId: "c", agentId: "" })).toThrow(/agentId/);
  });

  it("fuzz: every accepted id stays one segment below its parent, every other id throws", () => {
    const alphabet = ["a", "Z", "0", "_", "-", ".", "/", "\\", "\0", " ", "é", "😀", "\n", "%", ":", "~"];
    const random = seededRandom(42);
    const accepted = /^[A-Za-z0-9_-]{1,128}$/;
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(random() * 8);
      let id = "";
      for (let j = 0; j < length; j++) id += alphabet[Math.floor(random() * alphabet.length)];
      if (random() < 0.05) id = "..";
      const build = (): string => runDirectoryFor({ instanceRoot: "/root/x", ...ids, runId: id }).dir;
      if (accepted.test(id)) {
        const path = relative("/root/x/data/k8s-runs/company-1/agent_7", build());
        expect(path).toBe(id);
        expect(path.includes(sep)).toBe(false);
      } else {
        expect(build).toThrow(UnsafeIdError);
      }
    }
  });
});

/** Every file call of a run directory comes in two forms (`file-calls.ts`): both must build the same directory. */
const fileCallForms = [
  { how: "with pooled (asynchronous) calls", fs: pooledFileCalls },
  { how: "with local (synchronous) calls", fs: localFileCalls },
];

describe.each(fileCallForms)("prepareRunDirectory, $how", ({ fs }) => {
  it("writes a 2 MiB prompt byte for byte, instructions and nested run files", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    const prompt = "é€😀 prompt line\n".repeat(Math.ceil((2 * 1024 * 1024) / 20)).slice(0, 2 * 1024 * 1024);
    await prepareRunDirectory(run, {
      prompt,
      instructions: "# Be careful\n",
      runFiles: { "opencode.json": "{}", "config/review/notes.md": "# Review\n" },
    }, fs);
    expect(await readFile(run.prompt, "utf8")).toBe(prompt);
    expect(await readFile(run.instructions, "utf8")).toBe("# Be careful\n");
    expect(await readFile(join(run.input, "opencode.json"), "utf8")).toBe("{}");
    expect(await readFile(join(run.input, "config", "review", "notes.md"), "utf8")).toBe("# Review\n");
    expect((await stat(run.home)).isDirectory()).toBe(true);
  });

  it("hands output/ and HOME to the pod's uid; input/ and the run directory stay the server's, readable", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    const workspace = join(root, "workspaces", ids.agentId);
    await prepareRunDirectory(run, { prompt: "p", ownerUid: 12345, ownerGid: 23456, workspace }, fs);
    const serverUid = process.getuid?.() ?? 0;
    const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
    const ownerOf = async (path: string) => [(await stat(path)).uid, (await stat(path)).gid];
    for (const serverSide of [run.dir, run.input]) {
      expect(await ownerOf(serverSide)).toEqual([serverUid, expect.any(Number)]);
      expect(await modeOf(serverSide)).toBe(0o755);
    }
    expect(await modeOf(run.prompt)).toBe(0o644);
    for (const podSide of [run.output, run.home, workspace]) {
      if (serverUid === 0) {
        expect(await ownerOf(podSide)).toEqual([12345, 23456]);
        expect(await modeOf(podSide)).toBe(0o700);
      } else {
        expect(await modeOf(podSide)).toBe(0o777);
      }
    }
    // Parents are traversable but not writable by others.
    expect(await modeOf(join(root, "data", "k8s-runs", "company-1"))).toBe(0o755);
  });

  it("opens output/ to everyone when the pod's uid is unknown, and keeps it private for the server's own uid", async () => {
    const shared = runDirectoryFor({ instanceRoot: root, ...ids, runId: "shared" });
    await prepareRunDirectory(shared, { prompt: "p" }, fs);
    expect((await stat(shared.output)).mode & 0o777).toBe(0o777);
    expect((await stat(shared.prompt)).mode & 0o777).toBe(0o644);

    const own = runDirectoryFor({ instanceRoot: root, ...ids, runId: "own" });
    await prepareRunDirectory(own, { prompt: "p", ownerUid: process.getuid?.() ?? 0 }, fs);
    expect((await stat(own.output)).mode & 0o777).toBe(0o700);
  });

  it("leaves an existing workspace as it is (Paperclip made it)", async () => {
    const workspace = join(root, "workspaces", ids.agentId);
    await mkdir(workspace, { recursive: true, mode: 0o750 });
    await chmod(workspace, 0o750);
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    await prepareRunDirectory(run, { prompt: "p", ownerUid: 12345, workspace }, fs);
    expect((await stat(workspace)).mode & 0o777).toBe(0o750);
  });

  it("refuses to clobber an existing run directory's output", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    await prepareRunDirectory(run, { prompt: "first" }, fs);
    await writeFile(run.stdout, '{"type":"system"}\n');
    await expect(prepareRunDirectory(run, { prompt: "second" }, fs)).rejects.toBeInstanceOf(RunDirectoryExistsError);
    expect(await readFile(run.stdout, "utf8")).toBe('{"type":"system"}\n');
    expect(await readFile(run.prompt, "utf8")).toBe("first");
  });

  it.each(["../escape", "/abs", "a//b", "prompt", "prompt/x", "instructions.md", "skills/a/SKILL.md", "skills/../x", "./x", "", "a\0"])(
    "rejects run file name %j before creating anything",
    async (name) => {
      const run = runDirectoryFor({ instanceRoot: root, ...ids });
      await expect(prepareRunDirectory(run, { prompt: "p", runFiles: { [name]: "x" } }, fs)).rejects.toThrow(
        /run file name/,
      );
      await expect(stat(run.dir)).rejects.toMatchObject({ code: "ENOENT" });
    },
  );

  it("removes a half-written run directory when writing fails", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    // "a" is written as a file, so "a/b" cannot get its directory.
    await expect(prepareRunDirectory(run, { prompt: "p", runFiles: { a: "x", "a/b": "y" } }, fs)).rejects.toThrow();
    await expect(stat(run.dir)).rejects.toMatchObject({ code: "ENOENT" });
    await prepareRunDirectory(run, { prompt: "retry" }, fs);
    expect(await readFile(run.prompt, "utf8")).toBe("retry");
  });

  it("creates the levels of a skills mount point inside HOME for the pod's uid, and refuses a link the agent planted there", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    const mountPoint = join(run.home, ".codex", "skills");
    await prepareRunDirectory(run, { prompt: "p", ownerUid: 12345, ownerGid: 23456, homeMountPoint: mountPoint }, fs);
    const serverUid = process.getuid?.() ?? 0;
    for (const level of [join(run.home, ".codex"), mountPoint]) {
      expect((await stat(level)).isDirectory()).toBe(true);
      if (serverUid === 0) expect([(await stat(level)).uid, (await stat(level)).gid]).toEqual([12345, 23456]);
    }
    await rm(mountPoint, { recursive: true });
    await symlink(join(root, "elsewhere"), mountPoint);
    const next = runDirectoryFor({ instanceRoot: root, ...ids, runId: "next" });
    await expect(prepareRunDirectory(next, { prompt: "p", homeMountPoint: mountPoint }, fs)).rejects.toThrow(/skills.* is not a directory/);
    await expect(stat(join(root, "elsewhere"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(prepareRunDirectory(next, { prompt: "p", homeMountPoint: join(root, "outside") }, fs)).rejects.toThrow(/is not inside the agent's HOME/);
  });

  it("keeps an existing agent HOME as it is", async () => {
    const first = runDirectoryFor({ instanceRoot: root, ...ids, runId: "one" });
    await prepareRunDirectory(first, { prompt: "p" }, fs);
    await writeFile(join(first.home, "session.json"), "kept");
    const second = runDirectoryFor({ instanceRoot: root, ...ids, runId: "two" });
    await prepareRunDirectory(second, { prompt: "p" }, fs);
    expect(second.home).toBe(first.home);
    expect(await readFile(join(second.home, "session.json"), "utf8")).toBe("kept");
  });
});

describe("openExistingRunDirectory", () => {
  it("reports what the orphaned run wrote without changing it", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    await prepareRunDirectory(run, { prompt: "p" });
    expect(await openExistingRunDirectory(run)).toEqual({ stdoutBytes: 0, stderrBytes: 0, exitCode: null });
    await writeFile(run.stdout, "12345\n");
    await writeFile(run.exitCode, "0\n");
    const before = await stat(run.stdout);
    expect(await openExistingRunDirectory(run)).toEqual({ stdoutBytes: 6, stderrBytes: 0, exitCode: 0 });
    const after = await stat(run.stdout);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await readFile(run.stdout, "utf8")).toBe("12345\n");
  });

  it("says when the run directory is gone", async () => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    await expect(openExistingRunDirectory(run)).rejects.toThrow(/does not exist/);
  });
});

describe("readExitCodeFile", () => {
  it.each([
    ["0\n", 0],
    ["137", 137],
    [" 1 \n", 1],
    ["255\n", 255],
  ])("reads %j as %i", async (text, code) => {
    const path = join(root, "exit-code");
    await writeFile(path, text);
    expect(await readExitCodeFile(path)).toBe(code);
  });

  it("refuses an exit-code file the agent replaced with a link, even to a valid exit code", async () => {
    const target = join(root, "zero");
    await writeFile(target, "0\n");
    const link = join(root, "exit-code");
    await symlink(target, link);
    await expect(readExitCodeFile(link)).rejects.toBeInstanceOf(UnsafeFileError);
  });

  it("returns null while the file does not exist", async () => {
    expect(await readExitCodeFile(join(root, "exit-code"))).toBeNull();
  });

  it.each(["", "abc", "256", "-1", "1.5", "12 13"])("rejects %j naming the file", async (text) => {
    const path = join(root, "exit-code");
    await writeFile(path, text);
    await expect(readExitCodeFile(path)).rejects.toThrow(path);
  });
});

describe("removeRunDirectory", () => {
  it.each(fileCallForms)("deletes the run's files but keeps the agent HOME and siblings, $how", async ({ fs }) => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    const sibling = runDirectoryFor({ instanceRoot: root, ...ids, runId: "sibling" });
    await prepareRunDirectory(run, { prompt: "p", runFiles: { "config/a/notes.md": "x" } });
    await prepareRunDirectory(sibling, { prompt: "p" });
    await writeFile(run.stdout, "out\n");
    await removeRunDirectory(run, fs);
    await expect(stat(run.dir)).rejects.toMatchObject({ code: "ENOENT" });
    expect((await stat(run.home)).isDirectory()).toBe(true);
    expect(await readFile(sibling.prompt, "utf8")).toBe("p");
    await removeRunDirectory(run, fs);
  });

  it.each(fileCallForms)("refuses a link in place of the run directory and leaves its target, $how", async ({ fs }) => {
    const run = runDirectoryFor({ instanceRoot: root, ...ids });
    const target = join(root, "elsewhere");
    await mkdir(target);
    await writeFile(join(target, "kept"), "k");
    await mkdir(dirname(run.dir), { recursive: true });
    await symlink(target, run.dir);
    await expect(removeRunDirectory(run, fs)).rejects.toThrow(/is not a directory; not removing it/);
    expect(await readFile(join(target, "kept"), "utf8")).toBe("k");
  });
});
