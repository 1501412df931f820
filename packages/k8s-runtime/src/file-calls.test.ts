import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileCallsFor, localFileCalls, pooledFileCalls } from "./file-calls.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "file-calls-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fileCallsFor", () => {
  it("picks the synchronous calls for a local filesystem (this machine's temporary directory is ext4, or tmpfs)", async () => {
    expect(await fileCallsFor(dir)).toBe(localFileCalls);
  });

  it("asks about a directory not made yet through its nearest existing ancestor: the filesystem it will be made on", async () => {
    // A fresh instance's runs root does not exist before its first run: that run must not get the pooled calls.
    expect(await fileCallsFor(join(dir, "not", "made", "yet"))).toBe(localFileCalls);
    // /proc is no local disk filesystem: a path below it that does not exist gets the pooled calls.
    expect(await fileCallsFor("/proc/self/not-made-yet")).toBe(pooledFileCalls);
  });
});
