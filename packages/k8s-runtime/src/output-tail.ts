/**
 * Tails a file the pod appends to (`stdout`, `stderr` in the run directory) and hands out complete lines.
 *
 * - Reads by byte offset with adaptive polling (every tail's waits on one shared timer, `poll-clock.ts`): fast
 *   while the file grows, backing off while idle; events of the directory's `fs.watch` (`OutputDirectoryWatch`,
 *   one per run) cut an idle wait short on local filesystems, reading at once when the last read is long
 *   enough ago (network filesystems send no events, so the polling stays). A poll is one `fstat` on the open
 *   file; only what grew is read, into a buffer of that size, so an idle tail holds no read buffer. The calls
 *   are the filesystem's (`file-calls.ts`): synchronous on a local one, through the thread pool otherwise.
 * - Once the events have announced every growth a poll found several times in a row (the watch's
 *   `WatchTrust`), they drive the reading and the timer only backs them up, slowly. Growth a poll finds that
 *   no event announced (network storage, a lost event) ends the trust at once.
 * - Splits lines on the byte 0x0A (never part of a multi-byte UTF-8 sequence) and decodes each line with a
 *   streaming `TextDecoder`, so a character split across reads survives. A trailing `\r` is dropped.
 * - One line holds at most `maxLineBytes` in memory. A longer line is emitted once, cut at a character
 *   boundary, with a marker giving its full size: pieces of an NDJSON event would not parse either, and
 *   one marked line is what a reader of the run log can make sense of.
 * - The file may appear late (the pod's wrapper creates it when the container starts, often seconds after the
 *   run began); until then the tailer looks once a second, or at once when the directory's events name it.
 *   It is opened only as a regular file, never through a symbolic link (`safe-file.ts`): the agent writes the
 *   directory it is in.
 * - While draining with a settle window, the file is reopened on every poll: an NFS client revalidates a file's
 *   size on open (close-to-open consistency), while an fd held open may see a cached size for seconds. Without
 *   one (the writer is known to be done and its writes visible here) the drain is one read to the end.
 */
import { basename, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { pooledFileCalls, type FileCalls, type OpenFile } from "./file-calls.ts";
import type { OutputDirectoryWatch } from "./output-directory-watch.ts";
import { processClock } from "./poll-clock.ts";
import { assertStillOpenedFile, openRegularFile } from "./safe-file.ts";

/**
 * `cutAt` is set for a line cut at `maxLineBytes`: the index in `line` where the agent's text ends and the
 * truncation note begins (a secret cut there leaves its first part at that index: see `Redactor.redactCut`).
 */
export type LineHandler = (line: string, cutAt?: number) => Promise<void>;

export interface OutputTailerOptions {
  path: string;
  /** Awaited for each complete line, in order: a slow handler slows the reading (backpressure). */
  onLine: LineHandler;
  /** Byte offset to start at; 0 (the default) streams the whole file, also when reattaching. */
  startOffset?: number;
  /** Largest part of one line held in memory; default 1 MiB. */
  maxLineBytes?: number;
  /** Poll interval while the file grows; default 25 ms. */
  fastPollMs?: number;
  /** Poll interval the idle back-off ends at; default 400 ms. */
  idlePollMs?: number;
  /** Largest single read; default 64 KiB. */
  readChunkBytes?: number;
  /** Poll interval while the file does not exist yet; default 1 s. */
  absentPollMs?: number;
  /** Poll interval while the directory's events are trusted; default 2 s. */
  trustedPollMs?: number;
  /** The watch of the file's directory, whose events hint at growth; without one the tailer polls only. */
  directoryWatch?: OutputDirectoryWatch;
  /** The file calls of the filesystem the file is on; default the pooled (asynchronous) ones. */
  fileCalls?: FileCalls;
}

export interface DrainOptions {
  /**
   * The file's size must stay the same this long before the tail is considered complete. 0 when the writer is
   * known to have finished and its writes are visible here (a local filesystem): one read to the end, no reopening.
   */
  settleMs: number;
}

const NEWLINE = 0x0a;
/** Bytes read in one go before the event loop gets a turn. */
const YIELD_EVERY_BYTES = 4 * 1024 * 1024;
/** Polls across the settle window while draining. */
const SETTLE_WINDOW_POLLS = 3;

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen <= 0) throw new Error(`OutputTailer: ${name} must be a positive number, got ${value}`);
  return chosen;
}

export class OutputTailer {
  readonly path: string;
  readonly #onLine: LineHandler;
  readonly #maxLineBytes: number;
  readonly #fastPollMs: number;
  readonly #idlePollMs: number;
  readonly #readChunkBytes: number;
  readonly #trustedPollMs: number;
  readonly #absentPollMs: number;
  readonly #directoryWatch: OutputDirectoryWatch | undefined;
  readonly #fileCalls: FileCalls;
  /** An `fs.watch` event came since the last read began. */
  #announced = false;

  #offset: number;
  #bytesRead = 0;
  #linesEmitted = 0;
  #truncatedLines = 0;

  // The line being assembled.
  #decoder = new TextDecoder();
  #line = "";
  #lineBytes = 0;
  #lineFedBytes = 0;
  #lineFull = false;

  #loop: Promise<void> | null = null;
  #failure: { error: unknown } | null = null;
  #stopRequested = false;
  #settleMs: number | null = null;

  #handle: OpenFile | null = null;
  #unwatch: (() => void) | null = null;
  /** Cancels the pending wake-up of the current wait on the shared clock. */
  #cancelWait: (() => void) | null = null;
  #sleepStartedAt = 0;
  #endSleep: (() => void) | null = null;
  #wokenWhileBusy = false;

  constructor(options: OutputTailerOptions) {
    if (!options.path) throw new Error("OutputTailer: path is required");
    const startOffset = options.startOffset ?? 0;
    if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new Error(`OutputTailer: startOffset must be a non-negative integer, got ${options.startOffset}`);
    }
    this.path = options.path;
    this.#onLine = options.onLine;
    this.#offset = startOffset;
    this.#maxLineBytes = positiveOption("maxLineBytes", options.maxLineBytes, 1024 * 1024);
    this.#fastPollMs = positiveOption("fastPollMs", options.fastPollMs, 25);
    this.#idlePollMs = Math.max(this.#fastPollMs, positiveOption("idlePollMs", options.idlePollMs, 400));
    this.#readChunkBytes = positiveOption("readChunkBytes", options.readChunkBytes, 64 * 1024);
    this.#absentPollMs = Math.max(this.#fastPollMs, positiveOption("absentPollMs", options.absentPollMs, 1_000));
    this.#trustedPollMs = Math.max(this.#idlePollMs, positiveOption("trustedPollMs", options.trustedPollMs, 2_000));
    if (options.directoryWatch && dirname(options.path) !== options.directoryWatch.directory) {
      throw new Error(`OutputTailer: ${options.path} is not in the watched directory ${options.directoryWatch.directory}`);
    }
    this.#directoryWatch = options.directoryWatch;
    this.#fileCalls = options.fileCalls ?? pooledFileCalls;
  }

  /** Byte offset of the next read. */
  get offset(): number {
    return this.#offset;
  }
  /** Bytes read since the tailer started. */
  get bytesRead(): number {
    return this.#bytesRead;
  }
  get linesEmitted(): number {
    return this.#linesEmitted;
  }
  /** Lines longer than `maxLineBytes`, emitted cut. */
  get truncatedLines(): number {
    return this.#truncatedLines;
  }

  /** Starts tailing in the background; lines flow to `onLine` until `drain` or `stop`. Idempotent. */
  start(): void {
    if (this.#loop !== null) return;
    this.#unwatch =
      this.#directoryWatch?.on(basename(this.path), () => {
        this.#announced = true;
        this.#wake();
      }) ?? null;
    this.#loop = this.#run().catch((error: unknown) => {
      this.#failure = { error };
    });
  }

  /**
   * Call once the pod has exited: keeps reading until the file's size has not changed for `settleMs`
   * (network filesystems show the last writes late), emits the last line even without a trailing newline,
   * and stops. Rejects with the error that ended the tailing early (a read error, or `onLine` throwing).
   */
  async drain(options: DrainOptions): Promise<void> {
    if (!Number.isFinite(options.settleMs) || options.settleMs < 0) {
      throw new Error(`OutputTailer: settleMs must be a non-negative number, got ${options.settleMs}`);
    }
    this.#settleMs = options.settleMs;
    this.start();
    this.#wake();
    await this.#loop;
    if (this.#failure !== null) throw this.#failure.error;
  }

  /**
   * Stops at once: no `onLine` call starts after this resolves, a partial last line is dropped, the file
   * and timers are released. Never rejects (it is cleanup); `drain` is where failures surface. It waits
   * for a running `onLine` call, so `onLine` itself must not await it.
   */
  async stop(): Promise<void> {
    this.#stopRequested = true;
    this.#wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delay = this.#fastPollMs;
    let settleStartedAt: number | null = null;
    try {
      while (!this.#stopRequested) {
        const announced = this.#announced;
        this.#announced = false;
        // A drain asked for during this read waits for the next one: this read's size may predate the writer's end.
        const draining = this.#settleMs !== null;
        const grew = await this.#readAvailable();
        if (this.#stopRequested) break;
        if (grew) this.#directoryWatch?.trust.record(announced);
        if (!draining && this.#settleMs !== null) continue;
        if (this.#settleMs !== null) {
          const now = performance.now();
          if (grew || settleStartedAt === null) settleStartedAt = now;
          if (now - settleStartedAt >= this.#settleMs) {
            // The open file is complete; the path must still name it, or the agent's last writes went elsewhere.
            if (this.#handle !== null) await assertStillOpenedFile(this.path, this.#handle, this.#fileCalls);
            await this.#emitPendingLine();
            break;
          }
          // A few looks across the window tell a settled size as well as many (each one reopens the file).
          delay = Math.max(this.#fastPollMs, this.#settleMs / SETTLE_WINDOW_POLLS);
        } else if (this.#directoryWatch?.trust.trusted) {
          delay = this.#trustedPollMs; // the next write's event (or the file's creation) wakes the loop
        } else if (this.#handle === null) {
          delay = this.#absentPollMs; // not created yet
        } else {
          delay = grew ? this.#fastPollMs : Math.min(delay * 2, this.#idlePollMs);
        }
        await this.#sleep(delay);
      }
    } finally {
      await this.#release();
    }
  }

  /** Reads what the file has grown by since the last read, emitting complete lines; true when anything was read. */
  async #readAvailable(): Promise<boolean> {
    if (this.#settleMs !== null && this.#settleMs > 0) await this.#closeHandle();
    // The file is the agent's: a link or a FIFO in its place is refused (UnsafeFileError ends the tail).
    const handle = this.#handle ?? (this.#handle = await openRegularFile(this.path, this.#fileCalls));
    if (handle === null) return false; // not written yet
    const { size } = await handle.stat();
    let grew = false;
    let readSinceYield = 0;
    while (!this.#stopRequested && this.#offset < size) {
      const length = Math.min(size - this.#offset, this.#readChunkBytes);
      const chunk = Buffer.allocUnsafe(length);
      const bytesRead = await handle.read(chunk, 0, length, this.#offset);
      if (bytesRead === 0) break; // cut short since the fstat: the next poll sees its new size
      grew = true;
      this.#offset += bytesRead;
      this.#bytesRead += bytesRead;
      await this.#consume(chunk.subarray(0, bytesRead));
      // Synchronous reads (a local filesystem) of an agent's gigabytes without a newline would never let the event
      // loop run: give it a turn every few MiB.
      readSinceYield += bytesRead;
      if (readSinceYield >= YIELD_EVERY_BYTES) {
        readSinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return grew;
  }

  async #consume(bytes: Buffer): Promise<void> {
    let start = 0;
    while (start < bytes.length && !this.#stopRequested) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline === -1 ? bytes.length : newline;
      this.#append(bytes.subarray(start, end));
      if (newline === -1) return;
      await this.#emitLine();
      start = newline + 1;
    }
  }

  #append(bytes: Uint8Array): void {
    this.#lineBytes += bytes.length;
    if (this.#lineFull) return;
    const fed = Math.min(this.#maxLineBytes - this.#lineFedBytes, bytes.length);
    this.#line += this.#decoder.decode(bytes.subarray(0, fed), { stream: true });
    this.#lineFedBytes += fed;
    // Past the cap nothing more is kept. A character cut by the cap is still pending in the decoder and
    // is dropped with it (see #emitLine), so the kept text ends with a whole character.
    if (fed < bytes.length) this.#lineFull = true;
  }

  async #emitLine(): Promise<void> {
    let line: string;
    let cutAt: number | undefined;
    if (this.#lineFull) {
      this.#truncatedLines++;
      this.#decoder = new TextDecoder();
      cutAt = this.#line.length;
      line = `${this.#line} … [paperclip] line truncated: ${this.#lineBytes} bytes, first ${Buffer.byteLength(this.#line)} kept`;
    } else {
      line = this.#line + this.#decoder.decode();
      if (line.endsWith("\r")) line = line.slice(0, -1);
    }
    this.#line = "";
    this.#lineBytes = 0;
    this.#lineFedBytes = 0;
    this.#lineFull = false;
    this.#linesEmitted++;
    await this.#onLine(line, cutAt);
  }

  async #emitPendingLine(): Promise<void> {
    if (this.#lineBytes > 0) await this.#emitLine();
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopRequested) return Promise.resolve();
    if (this.#wokenWhileBusy) {
      this.#wokenWhileBusy = false;
      ms = Math.min(ms, this.#fastPollMs);
    }
    return new Promise((resolve) => {
      this.#sleepStartedAt = performance.now();
      this.#endSleep = resolve;
      this.#cancelWait = processClock.after(ms, () => this.#finishSleep());
    });
  }

  #finishSleep(): void {
    this.#cancelWait?.();
    this.#cancelWait = null;
    const resolve = this.#endSleep;
    this.#endSleep = null;
    resolve?.();
  }

  /** Cuts the current wait short (never below `fastPollMs` since it began, unless stopping or draining). */
  #wake(): void {
    if (this.#endSleep === null) {
      this.#wokenWhileBusy = true;
      return;
    }
    const urgent = this.#stopRequested || this.#settleMs !== null;
    const remaining = urgent ? 0 : this.#fastPollMs - (performance.now() - this.#sleepStartedAt);
    // Read at once when the last read is long enough ago: no timer, no extra wake-up of the process.
    if (remaining <= 0) return this.#finishSleep();
    this.#cancelWait?.();
    this.#cancelWait = processClock.after(remaining, () => this.#finishSleep());
  }

  async #release(): Promise<void> {
    this.#cancelWait?.();
    this.#cancelWait = null;
    this.#endSleep = null;
    this.#unwatch?.();
    this.#unwatch = null;
    await this.#closeHandle();
  }

  async #closeHandle(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }
}

export interface TailBufferOptions {
  /** Most lines kept; default 50. */
  maxLines?: number;
  /** Most UTF-8 bytes kept, newlines included; default 8 KiB. */
  maxBytes?: number;
}

/** The last lines pushed, bounded in count and bytes (a run's `stderrTail`). */
export class TailBuffer {
  readonly #maxLines: number;
  readonly #maxBytes: number;
  #lines: { text: string; bytes: number }[] = [];
  #bytes = 0;

  constructor(options: TailBufferOptions = {}) {
    this.#maxLines = positiveOption("maxLines", options.maxLines, 50);
    this.#maxBytes = positiveOption("maxBytes", options.maxBytes, 8 * 1024);
  }

  push(line: string): void {
    const text = this.#fitted(line);
    const bytes = Buffer.byteLength(text) + 1;
    this.#lines.push({ text, bytes });
    this.#bytes += bytes;
    while (this.#lines.length > this.#maxLines || this.#bytes > this.#maxBytes + 1) {
      const dropped = this.#lines.shift();
      if (dropped === undefined) break;
      this.#bytes -= dropped.bytes;
    }
  }

  /** The kept lines joined with `\n`. */
  toString(): string {
    return this.#lines.map((line) => line.text).join("\n");
  }

  /** A line longer than the whole buffer keeps its end, marked with a leading ellipsis. */
  #fitted(line: string): string {
    if (line.length * 3 <= this.#maxBytes) return line;
    const encoded = Buffer.from(line);
    if (encoded.length <= this.#maxBytes) return line;
    const marker = "…";
    let start = encoded.length - (this.#maxBytes - Buffer.byteLength(marker));
    while (start < encoded.length && ((encoded[start] ?? 0) & 0xc0) === 0x80) start++;
    return marker + encoded.subarray(start).toString("utf8");
  }
}
