/**
 * When a shared watch that has delivered nothing is worth one LIST to see whether it missed something
 * (`shared-watch-stream.ts`, the silent-watch check). A healthy watch is quiet at most one bookmark period:
 * kube-apiserver sends a BOOKMARK about once a minute whatever else it sends (its watch cache's
 * `defaultBookmarkFrequency`, plus one 2 s before the watch's `timeoutSeconds` deadline). So the wait is learned
 * per watch from the bookmarks it receives: 1.5 × the longest quiet stretch a bookmark has ended, within
 * [`floorMs`, `ceilingMs`]. Until a first bookmark (a server that sends none, or the watch's first minute) it is
 * `floorMs`. A check that found nothing missed doubles the wait for the next one, up to `ceilingMs`; anything the
 * watch delivers brings it back.
 *
 * The longest gap, not the latest: a bookmark right after an event or before a deadline ends a shorter one and must
 * not bring the checks back. (A stream held and then released, as a buffering proxy may, lengthens it; that only
 * delays checks, never past `ceilingMs`.) Quiet is counted across the watch's connections (re-opening a quiet watch
 * is not hearing from it) and from the last delivery or LIST, whichever is later (a LIST brings the cache up to date).
 */
export interface SilentWatchScheduleOptions {
  /** The shortest wait, and the wait until a bookmark was seen. */
  floorMs: number;
  /** The longest wait, learned or backed off (never below `floorMs`). */
  ceilingMs: number;
  now?: () => number;
}

/** How much longer than the longest bookmark gap seen a watch may be quiet before it is checked. */
const BOOKMARK_GAP_MARGIN = 1.5;

export class SilentWatchSchedule {
  private readonly floorMs: number;
  private readonly ceilingMs: number;
  private readonly now: () => number;
  /** Last delivery or LIST: what the wait counts from. */
  private quietSince: number;
  /** Last delivery on any connection. */
  private lastHeard: number;
  /** Last delivery on the current connection, or its start: what a bookmark gap is measured from. */
  private lastHeardOnConnection: number;
  private longestBookmarkGapMs: number | undefined;
  /** The wait after a check that found nothing missed; undefined: the learned one. */
  private backedOffMs: number | undefined;

  constructor(options: SilentWatchScheduleOptions) {
    this.floorMs = options.floorMs;
    this.ceilingMs = Math.max(options.floorMs, options.ceilingMs);
    this.now = options.now ?? Date.now;
    this.quietSince = this.now();
    this.lastHeard = this.quietSince;
    this.lastHeardOnConnection = this.quietSince;
  }

  /** The wait learned from bookmarks (the floor until one came). */
  learnedWaitMs(): number {
    if (this.longestBookmarkGapMs === undefined) return this.floorMs;
    return Math.min(this.ceilingMs, Math.max(this.floorMs, Math.ceil(this.longestBookmarkGapMs * BOOKMARK_GAP_MARGIN)));
  }

  /** Epoch ms at which the watch, quiet until then, is due for a check. */
  dueAt(): number {
    return this.quietSince + (this.backedOffMs ?? this.learnedWaitMs());
  }

  /** How long the watch has delivered nothing, on any of its connections (or since it was made). */
  silentForMs(): number {
    return this.now() - this.lastHeard;
  }

  /** A new connection of the watch: bookmark gaps are measured from here. */
  connected(): void {
    this.lastHeardOnConnection = this.now();
  }

  /**
   * The watch delivered an event or a bookmark. True when that brought the check due sooner (a backed-off wait
   * ended), so a timer armed for the old deadline must be re-armed; otherwise the deadline only moved later.
   */
  heard(bookmark: boolean): boolean {
    const now = this.now();
    if (bookmark) this.longestBookmarkGapMs = Math.max(this.longestBookmarkGapMs ?? 0, now - this.lastHeardOnConnection);
    this.lastHeardOnConnection = now;
    this.lastHeard = now;
    this.quietSince = now;
    const wasBackedOff = this.backedOffMs !== undefined;
    this.backedOffMs = undefined;
    return wasBackedOff;
  }

  /** A LIST brought the cache up to date. */
  listed(): void {
    this.quietSince = this.now();
  }

  /** A check found nothing missed (after `listed()`): the watch was only quiet, so wait twice as long for the next. */
  foundNothingMissed(): void {
    this.backedOffMs = Math.min(this.ceilingMs, 2 * (this.backedOffMs ?? this.learnedWaitMs()));
  }

  /** A check was due but not made (nobody follows the watch, it is down, or the LIST failed): wait as long again. */
  postponed(): void {
    this.quietSince = this.now();
  }
}
