/**
 * Faults on watch streams that are already open: what a flaky network or a misbehaving proxy does to
 * a long-lived connection. Each open watch registers a handle here; tests (and `POST /_sim/faults`)
 * act on every open watch of a resource at once.
 */

/** What the fault machinery can do to one open watch stream (implemented by the watch server). */
export interface OpenWatchHandle {
  /** Plural resource name, e.g. `pods`. */
  readonly resource: string;
  /** Destroys the connection without ending the HTTP response (a dropped TCP connection). */
  drop(): void;
  /** Keeps the connection open but sends nothing (no events, no bookmarks) until released. */
  hold(): void;
  /** Sends what was held back, then streams normally again. */
  release(): void;
  /** Sends an ERROR event with a 410 Expired Status and ends the stream, as after a compaction. */
  expire(): void;
}

export type OpenWatchAction = "drop" | "hold" | "release" | "expire";

export class OpenWatches {
  private readonly open = new Set<OpenWatchHandle>();
  private readonly held = new Set<OpenWatchHandle>();
  /** Resources (`*` for all) whose new watches start held, as behind a proxy that holds every stream. */
  private readonly holdingNew = new Set<string>();

  /** Called by the watch server for each stream it opens; the returned function unregisters it. */
  register(handle: OpenWatchHandle): () => void {
    this.open.add(handle);
    if (this.holdingNew.has(handle.resource) || this.holdingNew.has("*")) {
      this.held.add(handle);
      handle.hold();
    }
    return () => {
      this.open.delete(handle);
      this.held.delete(handle);
    };
  }

  /**
   * Holds the watches of `resource` (every resource when omitted) opened from now on too, until
   * `act("release", resource)` with the same resource, or `releaseAll`.
   */
  holdNew(resource?: string): void {
    this.holdingNew.add(resource ?? "*");
  }

  /** Applies `action` to every open watch of `resource` (every resource when omitted); returns how many. */
  act(action: OpenWatchAction, resource?: string): number {
    if (action === "release") this.holdingNew.delete(resource ?? "*");
    const targets = [...this.open].filter((handle) => resource === undefined || handle.resource === resource);
    for (const handle of targets) {
      if (action === "hold") this.held.add(handle);
      if (action === "release") this.held.delete(handle);
      handle[action]();
    }
    return targets.length;
  }

  /** Lets every held stream go (part of clearing all faults). */
  releaseAll(): void {
    this.holdingNew.clear();
    for (const handle of [...this.held]) handle.release();
    this.held.clear();
  }
}
