/**
 * Opening files in places a hostile party may have prepared: an agent pod writes its run's `output/`
 * directory, and an agent config can name any path. One way to open them, used everywhere:
 * - the last path component is never followed when it is a symbolic link (`O_NOFOLLOW`): an agent
 *   that swaps `stdout` for a link to `/proc/self/environ` gets an error, not the server's secrets;
 * - opening never blocks (`O_NONBLOCK`): a FIFO in place of a file would otherwise hang the reader
 *   until somebody writes to it;
 * - only regular files are accepted, checked on the open descriptor (`fstat`), so the answer is
 *   about the file actually read, not about a path that may change in between;
 * - whole-file reads are capped.
 * The directories above the last component must be the server's own (the run directory is, and
 * the agent's mounts start below it): `O_NOFOLLOW` guards only the last component.
 */
import { constants } from "node:fs";
import { errnoCode, pooledFileCalls, type FileCalls, type OpenFile } from "./file-calls.ts";

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** A file that is not a regular file, a symbolic link in its place, or one larger than allowed. */
export class UnsafeFileError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`${path} ${problem}; not read`);
    this.name = "UnsafeFileError";
    this.path = path;
  }
}

function describeKind(stats: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "not a regular file";
}

/**
 * Opens `path` for reading when it is a regular file; null when it does not exist. Throws
 * `UnsafeFileError` for a symbolic link, FIFO, socket, device or directory. `calls` are those of the
 * filesystem the file is on (`file-calls.ts`); there a missing file is an `lstat` that does not throw.
 */
export async function openRegularFile(path: string, calls: FileCalls = pooledFileCalls): Promise<OpenFile | null> {
  if (calls.local && (await calls.lstat(path)) === null) return null;
  let file: OpenFile;
  try {
    file = await calls.open(path, OPEN_FLAGS);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") return null;
    // Linux answers ELOOP for a symlink under O_NOFOLLOW.
    if (code === "ELOOP") throw new UnsafeFileError(path, "is a symbolic link");
    // Opening a FIFO with no writer for O_WRONLY would be ENXIO; for reading it succeeds. Sockets give ENXIO.
    if (code === "ENXIO") throw new UnsafeFileError(path, "is a socket or FIFO");
    throw error;
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new UnsafeFileError(path, `is ${describeKind(stats)}`);
    return file;
  } catch (error) {
    await file.close();
    throw error;
  }
}

/**
 * Throws `UnsafeFileError` when `path` no longer names the regular file `file` was opened from: the agent swapped it
 * for a link, a FIFO or another file after it was opened (what it writes there from then on would not reach the open
 * file). A file that is simply gone is no tampering the reader could tell from an agent deleting its own output.
 */
export async function assertStillOpenedFile(path: string, file: OpenFile, calls: FileCalls = pooledFileCalls): Promise<void> {
  const now = await calls.lstat(path);
  if (now === null) return;
  if (now.isSymbolicLink()) throw new UnsafeFileError(path, "was replaced by a symbolic link after it was opened");
  if (!now.isFile()) throw new UnsafeFileError(path, `was replaced by ${describeKind(now)} after it was opened`);
  const opened = await file.stat();
  if (now.dev !== opened.dev || now.ino !== opened.ino) throw new UnsafeFileError(path, "was replaced by another file after it was opened");
}

/**
 * The whole content of a regular file as UTF-8, at most `maxBytes`; null when it does not exist.
 * Throws `UnsafeFileError` for anything but a regular file, or one larger than `maxBytes`.
 */
export async function readRegularFile(path: string, maxBytes: number, calls: FileCalls = pooledFileCalls): Promise<string | null> {
  const file = await openRegularFile(path, calls);
  if (file === null) return null;
  try {
    return await readCapped(file, maxBytes, () => new UnsafeFileError(path, `is larger than ${maxBytes} bytes`));
  } finally {
    await file.close();
  }
}

/**
 * An open file's content as UTF-8, throwing `tooLarge()` past `maxBytes`. It reads one byte past the cap, so a
 * file that grows between its `fstat` and the read is caught as well.
 */
export async function readCapped(file: OpenFile, maxBytes: number, tooLarge: () => Error): Promise<string> {
  const buffer = Buffer.alloc(maxBytes + 1);
  let length = 0;
  while (length < buffer.length) {
    const bytesRead = await file.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  if (length > maxBytes) throw tooLarge();
  return buffer.subarray(0, length).toString("utf8");
}
