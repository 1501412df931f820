/**
 * One timer for the runtime's coarse waits in the whole process (DESIGN §8): the output tails' polls, the Job
 * trackers' fallback timeouts, the keepalives. A wait is rounded up to a grid whose step grows with its length (an
 * eighth of it, at least `FINEST_STEP_MS`): the waits of hundreds of runs that wait about as long fall due together
 * and cost the process one wake-up, not one each. Under load a wake-up (a context switch) costs more than the work
 * it runs. Waits that must be exact (deadlines a user set, retries' backoff) keep their own timers.
 */
const FINEST_STEP_MS = 5;
/** A wait is late by at most this share of its length. */
const STEPS_PER_WAIT = 8;

export class PollClock {
  /** Callbacks by the grid time they are due at (performance.now() milliseconds). */
  readonly #due = new Map<number, Set<() => void>>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;

  /** Calls `callback` once, `ms` from now or a little later (see the module comment); returns the cancel. */
  after(ms: number, callback: () => void): () => void {
    const step = Math.max(FINEST_STEP_MS, ms / STEPS_PER_WAIT);
    const at = Math.ceil((performance.now() + ms) / step) * step;
    let callbacks = this.#due.get(at);
    if (!callbacks) {
      callbacks = new Set();
      this.#due.set(at, callbacks);
    }
    // Its own function, so one callback registered twice is two entries.
    const entry = () => callback();
    callbacks.add(entry);
    if (at < this.#timerAt) this.#arm(at);
    const registered = callbacks;
    return () => {
      registered.delete(entry);
      if (registered.size === 0 && this.#due.get(at) === registered) this.#due.delete(at);
      if (this.#due.size === 0) this.#disarm();
    };
  }

  #arm(at: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - performance.now()));
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const ready: [number, Set<() => void>][] = [];
    for (const [at, callbacks] of this.#due) {
      if (at > now) continue;
      this.#due.delete(at);
      ready.push([at, callbacks]);
    }
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.#due.keys()) next = Math.min(next, at);
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    // A late wake-up (a loaded machine) finds several grid times due: they run in the order they fell due.
    ready.sort(([a], [b]) => a - b);
    for (const [, callbacks] of ready) for (const callback of callbacks) callback();
  }
}

/** The process's clock for coarse waits (see the module comment). */
export const processClock = new PollClock();
