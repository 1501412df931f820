/**
 * Runs async work one at a time per key (the runtime serializes guard-then-create per agent, so two runs of
 * one agent in this process cannot both see "no live Job" and both create one). Different keys run
 * concurrently; a key holds no memory once its queue is empty. Node has no such primitive.
 */
export class KeyedMutex {
  /** Per key, a promise that settles when the last queued holder releases. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier holder of `key` has finished (resolved or thrown); returns its result. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => released);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a holder or waiters. */
  get size(): number {
    return this.#tails.size;
  }
}
