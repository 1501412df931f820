import { appendFile, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OutputDirectoryWatch } from "./output-directory-watch.ts";

let dir: string;
let directoryWatch: OutputDirectoryWatch;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "output-directory-watch-"));
  directoryWatch = new OutputDirectoryWatch(dir);
});
afterEach(async () => {
  directoryWatch.close();
  await rm(dir, { recursive: true, force: true });
});

describe("OutputDirectoryWatch", () => {
  it("tells each listener about its own file: the exit-code file renamed into place as the wrapper does, a growing stdout", async () => {
    const heard: string[] = [];
    directoryWatch.on("exit-code", () => heard.push("exit-code"));
    directoryWatch.on("stdout", () => heard.push("stdout"));
    const unsubscribeStderr = directoryWatch.on("stderr", () => heard.push("stderr"));
    unsubscribeStderr();
    await appendFile(join(dir, "stderr"), "nobody listens\n");
    await appendFile(join(dir, "stdout"), "a line\n");
    await vi.waitFor(() => expect(heard).toContain("stdout"));
    await writeFile(join(dir, "exit-code.tmp"), "0\n");
    await rename(join(dir, "exit-code.tmp"), join(dir, "exit-code"));
    await vi.waitFor(() => expect(heard).toContain("exit-code"));
    expect(new Set(heard)).toEqual(new Set(["stdout", "exit-code"]));
  });

  it("on a local filesystem the events are trusted from the start, until a poll finds growth none announced", () => {
    const local = new OutputDirectoryWatch(dir, { localFilesystem: true });
    try {
      expect(local.trust.trusted).toBe(true);
      local.trust.record(false);
      expect(local.trust.trusted).toBe(false);
    } finally {
      local.close();
    }
    // Without events there is nothing to trust, local or not.
    expect(new OutputDirectoryWatch(dir, { networkStorage: true, localFilesystem: true }).trust.trusted).toBe(false);
    expect(directoryWatch.trust.trusted).toBe(false);
  });

  it("closing ends the trust: nothing will announce growth any more", () => {
    for (let i = 0; i < 3; i++) directoryWatch.trust.record(true);
    expect(directoryWatch.trust.trusted).toBe(true);
    directoryWatch.close();
    expect(directoryWatch.trust.trusted).toBe(false);
  });
});
