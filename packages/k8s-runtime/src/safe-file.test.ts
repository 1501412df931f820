import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openRegularFile, readRegularFile, UnsafeFileError } from "./safe-file.ts";

describe("safe-file", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "safe-file-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a regular file, and answers null for a missing one", async () => {
    await writeFile(path.join(dir, "exit-code"), "0\n");
    expect(await readRegularFile(path.join(dir, "exit-code"), 64)).toBe("0\n");
    expect(await readRegularFile(path.join(dir, "missing"), 64)).toBeNull();
    expect(await openRegularFile(path.join(dir, "missing"))).toBeNull();
  });

  it("refuses a symbolic link in place of the file, even to a readable regular file", async () => {
    const secret = path.join(dir, "server-secret");
    await writeFile(secret, "DATABASE_URL=postgres://secret");
    await symlink(secret, path.join(dir, "stdout"));
    await expect(readRegularFile(path.join(dir, "stdout"), 1024)).rejects.toThrow(/stdout is a symbolic link; not read/);
    await symlink("/proc/self/environ", path.join(dir, "stderr"));
    await expect(openRegularFile(path.join(dir, "stderr"))).rejects.toBeInstanceOf(UnsafeFileError);
  });

  it("refuses a FIFO without blocking, whether or not anybody writes to it", async () => {
    const fifo = path.join(dir, "stdout");
    execFileSync("mkfifo", [fifo]);
    // A blocking open would never return: the test's own timeout is the failure signal.
    await expect(openRegularFile(fifo)).rejects.toThrow(/stdout is a FIFO/);
    await expect(readRegularFile(fifo, 10)).rejects.toThrow(/is a FIFO/);
  });

  it("refuses a directory, a socket and a device", async () => {
    await mkdir(path.join(dir, "exit-code"));
    await expect(readRegularFile(path.join(dir, "exit-code"), 10)).rejects.toThrow(/is a directory/);
    const socketPath = path.join(dir, "sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await expect(openRegularFile(socketPath)).rejects.toThrow(/socket/);
    } finally {
      server.close();
    }
    await expect(openRegularFile("/dev/zero")).rejects.toThrow(/is a device/);
  });

  it("refuses a file larger than the cap instead of reading part of it", async () => {
    await writeFile(path.join(dir, "exit-code"), "1".repeat(65));
    await expect(readRegularFile(path.join(dir, "exit-code"), 64)).rejects.toThrow(/larger than 64 bytes/);
    await writeFile(path.join(dir, "exit-code"), "1".repeat(64));
    expect(await readRegularFile(path.join(dir, "exit-code"), 64)).toHaveLength(64);
  });
});
