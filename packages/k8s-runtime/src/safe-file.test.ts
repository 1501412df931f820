import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { localFileCalls, pooledFileCalls } from "./file-calls.ts";
import { openRegularFile, readRegularFile, UnsafeFileError } from "./safe-file.ts";

// The synchronous calls of a local filesystem must refuse exactly what the pooled ones refuse.
describe.each([
  { how: "pooled (asynchronous) calls", calls: pooledFileCalls },
  { how: "local (synchronous) calls", calls: localFileCalls },
])("safe-file with $how", ({ calls }) => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "safe-file-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a regular file, and answers null for a missing one", async () => {
    await writeFile(path.join(dir, "exit-code"), "0\n");
    expect(await readRegularFile(path.join(dir, "exit-code"), 64, calls)).toBe("0\n");
    expect(await readRegularFile(path.join(dir, "missing"), 64, calls)).toBeNull();
    expect(await openRegularFile(path.join(dir, "missing"), calls)).toBeNull();
  });

  it("refuses a symbolic link in place of the file, even to a readable regular file", async () => {
    const secret = path.join(dir, "server-secret");
    await writeFile(secret, "DATABASE_URL=postgres://secret");
    await symlink(secret, path.join(dir, "stdout"));
    await expect(readRegularFile(path.join(dir, "stdout"), 1024, calls)).rejects.toThrow(/stdout is a symbolic link; not read/);
    await symlink("/proc/self/environ", path.join(dir, "stderr"));
    await expect(openRegularFile(path.join(dir, "stderr"), calls)).rejects.toBeInstanceOf(UnsafeFileError);
  });

  it("refuses a FIFO without blocking, whether or not anybody writes to it", async () => {
    const fifo = path.join(dir, "stdout");
    execFileSync("mkfifo", [fifo]);
    // A blocking open would never return: the test's own timeout is the failure signal.
    await expect(openRegularFile(fifo, calls)).rejects.toThrow(/stdout is a FIFO/);
    await expect(readRegularFile(fifo, 10, calls)).rejects.toThrow(/is a FIFO/);
  });

  it("refuses a directory, a socket and a device", async () => {
    await mkdir(path.join(dir, "exit-code"));
    await expect(readRegularFile(path.join(dir, "exit-code"), 10, calls)).rejects.toThrow(/is a directory/);
    const socketPath = path.join(dir, "sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await expect(openRegularFile(socketPath, calls)).rejects.toThrow(/socket/);
    } finally {
      server.close();
    }
    await expect(openRegularFile("/dev/zero", calls)).rejects.toThrow(/is a device/);
  });

  it("refuses a file larger than the cap instead of reading part of it", async () => {
    await writeFile(path.join(dir, "exit-code"), "1".repeat(65));
    await expect(readRegularFile(path.join(dir, "exit-code"), 64, calls)).rejects.toThrow(/larger than 64 bytes/);
    await writeFile(path.join(dir, "exit-code"), "1".repeat(64));
    expect(await readRegularFile(path.join(dir, "exit-code"), 64, calls)).toHaveLength(64);
  });
});
