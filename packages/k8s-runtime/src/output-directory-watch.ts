/**
 * One `fs.watch` on a run's output directory, shared by everyone waiting on its files: the `stdout` and `stderr`
 * tails and the completion wait for the exit-code file. One inotify watch per run instead of one per file, and
 * the exit-code file's appearance (the wrapper renames it into place) is an event instead of a timer.
 *
 * Events are hints, never the only way to learn something: on network storage (RWX, NFS-like) writes made on
 * another node send none, so whoever listens also polls. `WatchTrust` is what the polls learnt: once the events
 * announced every growth the polls found several times in a row, waiters may rely on them and poll slowly; growth
 * found without an event ends the trust at once. On a local filesystem the events are trusted from the start: it is
 * mounted on this node only, so every write to it, a pod's through its own mount too, goes through this node's
 * kernel, which reports it (inotify follows the inode, not the mount). The polls stay, slow, to catch a lost event.
 */
import { watch, type FSWatcher } from "node:fs";

/** Announced growths in a row after which `fs.watch` is trusted. */
const ANNOUNCED_GROWTHS_FOR_TRUST = 3;

/** Whether `fs.watch` reports the growth of files in one directory: learnt from what the polls find. */
export class WatchTrust {
  /** Growths in a row that an event announced before the poll found them. */
  #announcedInARow: number;

  constructor(trustedFromStart = false) {
    this.#announcedInARow = trustedFromStart ? ANNOUNCED_GROWTHS_FOR_TRUST : 0;
  }

  record(growthAnnounced: boolean): void {
    this.#announcedInARow = growthAnnounced ? this.#announcedInARow + 1 : 0;
  }

  get trusted(): boolean {
    return this.#announcedInARow >= ANNOUNCED_GROWTHS_FOR_TRUST;
  }
}

export interface OutputDirectoryWatchOptions {
  /** Treat the directory as network storage: no events, so its listeners poll only; default false. */
  networkStorage?: boolean;
  /** The directory is on a local filesystem (`FileCalls.local`): its events are trusted from the start; default false. */
  localFilesystem?: boolean;
}

export class OutputDirectoryWatch {
  readonly directory: string;
  readonly trust: WatchTrust;
  readonly #listeners = new Map<string, Set<() => void>>();
  #watcher: FSWatcher | null = null;

  constructor(directory: string, options: OutputDirectoryWatchOptions = {}) {
    this.directory = directory;
    if (options.networkStorage === true) {
      this.trust = new WatchTrust();
      return;
    }
    try {
      // Not persistent: it never keeps the process alive. Any error leaves the listeners to their polling.
      this.#watcher = watch(directory, { persistent: false }, (_event, fileName) => this.#notify(fileName));
      this.#watcher.on("error", () => this.close());
    } catch {
      this.#watcher = null;
    }
    this.trust = new WatchTrust(this.#watcher !== null && options.localFilesystem === true);
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
