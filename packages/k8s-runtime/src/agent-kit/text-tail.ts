/** Keeps the most recent text pieces within a character budget, so a long run cannot grow memory. */
export class TextTail {
  readonly #budget: number;
  readonly #pieces: string[] = [];
  #length = 0;
  #dropped = false;

  constructor(budget: number) {
    this.#budget = budget;
  }

  push(text: string): void {
    const piece = text.length > this.#budget ? text.slice(text.length - this.#budget) : text;
    if (piece !== text) this.#dropped = true;
    this.#pieces.push(piece);
    this.#length += piece.length;
    while (this.#length > this.#budget) {
      const oldest = this.#pieces.shift();
      if (oldest === undefined) break;
      this.#length -= oldest.length;
      this.#dropped = true;
    }
  }

  /** The kept pieces joined; a leading marker says when older text was dropped. */
  join(separator: string): string {
    const joined = this.#pieces.join(separator);
    return this.#dropped ? `[…earlier text omitted]${separator}${joined}` : joined;
  }
}
