/**
 * The file calls the runtime makes on the shared volume (run directories, the agent's output), in the one of two
 * forms that suits the filesystem they land on:
 *
 * - `localFileCalls`: synchronous. On a filesystem this node's kernel serves from its own block device or memory
 *   (ext4, xfs, btrfs, zfs, f2fs, tmpfs, overlayfs) a call on cached data takes microseconds, while handing it to
 *   libuv's thread pool and back costs two thread wake-ups, 50–200 µs of CPU each on a virtual machine: the main
 *   cost of preparing, following and removing hundreds of run directories.
 * - `pooledFileCalls`: asynchronous, through the thread pool. Network and user-space filesystems (NFS, SMB, CephFS,
 *   FUSE) and anything unrecognised can block for as long as their server takes; the event loop must not.
 *
 * `fileCallsFor(directory)` picks by the directory's `statfs` type, asked once per directory and remembered: the
 * runtime asks about the root of its run directories, whose filesystem does not change while the server runs.
 * Both forms return promises and report errors the same way (Node's errno errors), so callers have one code path.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { chmod, lstat, mkdir, open, rm, statfs, writeFile, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/** An open file or directory. */
export interface OpenFile {
  readonly fd: number;
  stat(): Promise<Stats>;
  /** Bytes read into `buffer` at `offset`, from the file's `position`; 0 at the end. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  chown(uid: number, gid: number): Promise<void>;
  chmod(mode: number): Promise<void>;
  close(): Promise<void>;
}

export interface FileCalls {
  /** True for the synchronous form (a local filesystem). */
  readonly local: boolean;
  open(path: string, flags: number): Promise<OpenFile>;
  /** The entry at `path`, a link not followed; null when nothing is there. */
  lstat(path: string): Promise<Stats | null>;
  /** `fs.mkdir`: with `recursive`, the first directory created (undefined when all existed). */
  mkdir(path: string, options: { recursive?: boolean; mode: number }): Promise<string | undefined>;
  chmod(path: string, mode: number): Promise<void>;
  /** Creates `path` with `content`; fails when it exists (`wx`), so nothing planted there is written through. */
  writeNewFile(path: string, content: string, mode: number): Promise<void>;
  /** Removes a tree; missing is fine. */
  removeTree(path: string): Promise<void>;
}

/** A Node file call's error code (`ENOENT`, `ELOOP`…), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

class SyncOpenFile implements OpenFile {
  readonly fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }
  async stat(): Promise<Stats> {
    return fstatSync(this.fd);
  }
  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return readSync(this.fd, buffer, offset, length, position);
  }
  async chown(uid: number, gid: number): Promise<void> {
    fchownSync(this.fd, uid, gid);
  }
  async chmod(mode: number): Promise<void> {
    fchmodSync(this.fd, mode);
  }
  async close(): Promise<void> {
    closeSync(this.fd);
  }
}

class PooledOpenFile implements OpenFile {
  readonly #handle: FileHandle;
  constructor(handle: FileHandle) {
    this.#handle = handle;
  }
  get fd(): number {
    return this.#handle.fd;
  }
  stat(): Promise<Stats> {
    return this.#handle.stat();
  }
  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.#handle.read(buffer, offset, length, position)).bytesRead;
  }
  chown(uid: number, gid: number): Promise<void> {
    return this.#handle.chown(uid, gid);
  }
  chmod(mode: number): Promise<void> {
    return this.#handle.chmod(mode);
  }
  close(): Promise<void> {
    return this.#handle.close();
  }
}

export const localFileCalls: FileCalls = {
  local: true,
  open: async (path, flags) => new SyncOpenFile(openSync(path, flags)),
  lstat: async (path) => lstatSync(path, { throwIfNoEntry: false }) ?? null,
  mkdir: async (path, options) => mkdirSync(path, options),
  chmod: async (path, mode) => chmodSync(path, mode),
  writeNewFile: async (path, content, mode) => writeFileSync(path, content, { flag: "wx", mode }),
  removeTree: async (path) => rmSync(path, { recursive: true, force: true }),
};

export const pooledFileCalls: FileCalls = {
  local: false,
  open: async (path, flags) => new PooledOpenFile(await open(path, flags)),
  lstat: (path) =>
    lstat(path).catch((error: unknown) => {
      if (errnoCode(error) === "ENOENT") return null;
      throw error;
    }),
  mkdir: (path, options) => mkdir(path, options),
  chmod: (path, mode) => chmod(path, mode),
  writeNewFile: (path, content, mode) => writeFile(path, content, { flag: "wx", mode }),
  // A pod that is still being stopped may write its last bytes while we delete (ENOTEMPTY): retry briefly.
  removeTree: (path) => rm(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }),
};

/** `statfs` magic numbers of local filesystems (linux/magic.h). */
const LOCAL_FILESYSTEMS = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
]);

const known = new Map<string, Promise<FileCalls>>();

/**
 * The calls for files under `directory`, by its filesystem's type. A directory not made yet (a fresh instance's runs
 * root) is asked about through its nearest existing ancestor: that is the filesystem it will be made on. When the type
 * cannot be told (`statfs` fails), the pooled calls, and it is asked again next time.
 */
export function fileCallsFor(directory: string): Promise<FileCalls> {
  const remembered = known.get(directory);
  if (remembered) return remembered;
  const asked = filesystemTypeOf(directory).then(
    (type) => (LOCAL_FILESYSTEMS.has(type) ? localFileCalls : pooledFileCalls),
    () => {
      known.delete(directory);
      return pooledFileCalls;
    },
  );
  known.set(directory, asked);
  return asked;
}

async function filesystemTypeOf(path: string): Promise<number> {
  for (;;) {
    try {
      return (await statfs(path)).type;
    } catch (error) {
      const parent = dirname(path);
      if (errnoCode(error) !== "ENOENT" || parent === path) throw error;
      path = parent;
    }
  }
}

/** `O_RDONLY` with `O_DIRECTORY | O_NOFOLLOW`: a directory the server made, opened without following a link. */
export const OPEN_DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
