/**
 * One `fs.watch` on a run's output directory, shared by everyone waiting on its files: the `stdout` and `stderr`
 * tails and the completion wait for the exit-code file. One inotify watch per run instead of one per file, and
 * the exit-code file's appearance (the wrapper renames it into place) is an event instead of a timer.
 *
 * Events are hints, never the only way to learn something: on network storage (RWX, NFS-like) writes made on
 * another node send none, so whoever listens also polls. `WatchTrust` is what the polls learnt: once the events
 * announced every growth the polls found several times in a row, waiters may rely on them and poll slowly; growth
 * found without an event ends the trust at once.
 *
 * The watch also says whether the directory is on a local filesystem (`local`): one this node's kernel serves from
 * its own block device or memory (ext4, xfs, btrfs, zfs, f2fs, tmpfs, overlayfs). Reading what is cached there
 * takes microseconds, so its readers `fstat`, `read` and look for files synchronously: cheaper than handing each
 * call to libuv's thread pool and back (two thread wake-ups per call, the main cost of following many files).
 * Network and user-space filesystems (NFS, SMB, CephFS, FUSE) and anything unrecognised can block for as long as
 * their server takes: their readers stay asynchronous.
 */
import { watch, type FSWatcher } from "node:fs";
import { statfs } from "node:fs/promises";

/** Announced growths in a row after which `fs.watch` is trusted. */
const ANNOUNCED_GROWTHS_FOR_TRUST = 3;

/** Whether `fs.watch` reports the growth of files in one directory: learnt from what the polls find. */
export class WatchTrust {
  /** Growths in a row that an event announced before the poll found them. */
  #announcedInARow = 0;

  record(growthAnnounced: boolean): void {
    this.#announcedInARow = growthAnnounced ? this.#announcedInARow + 1 : 0;
  }

  get trusted(): boolean {
    return this.#announcedInARow >= ANNOUNCED_GROWTHS_FOR_TRUST;
  }
}

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

export interface OutputDirectoryWatchOptions {
  /** Treat the directory as network storage: no events (polling only), asynchronous reads; default false. */
  networkStorage?: boolean;
}

export class OutputDirectoryWatch {
  readonly directory: string;
  readonly trust = new WatchTrust();
  readonly #listeners = new Map<string, Set<() => void>>();
  #watcher: FSWatcher | null = null;
  #local = false;

  constructor(directory: string, options: OutputDirectoryWatchOptions = {}) {
    this.directory = directory;
    if (options.networkStorage === true) return;
    // Asynchronous until known: the first reads of a run happen seconds later, once its pod runs.
    statfs(directory).then(
      ({ type }) => (this.#local = LOCAL_FILESYSTEMS.has(type)),
      () => undefined,
    );
    try {
      // Not persistent: it never keeps the process alive. Any error leaves the listeners to their polling.
      this.#watcher = watch(directory, { persistent: false }, (_event, fileName) => this.#notify(fileName));
      this.#watcher.on("error", () => this.close());
    } catch {
      this.#watcher = null;
    }
  }

  /** True once the directory is known to be on a local filesystem (see the module comment). */
  get local(): boolean {
    return this.#local;
  }

  /** Calls `listener` on every event about the file `fileName` of the directory; returns the unsubscribe. */
  on(fileName: string, listener: () => void): () => void {
    let listeners = this.#listeners.get(fileName);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(fileName, listeners);
    }
    listeners.add(listener);
    const subscribed = listeners;
    return () => {
      subscribed.delete(listener);
      if (subscribed.size === 0 && this.#listeners.get(fileName) === subscribed) this.#listeners.delete(fileName);
    };
  }

  /** Ends the events; whoever listens keeps polling, and the trust is gone (nothing will announce growth now). */
  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
    this.trust.record(false);
  }

  #notify(fileName: string | null): void {
    // Linux names the file; a platform that does not gets everyone woken.
    const targets = fileName === null ? [...this.#listeners.values()] : [this.#listeners.get(fileName)];
    for (const listeners of targets) for (const listener of listeners ?? []) listener();
  }
}
