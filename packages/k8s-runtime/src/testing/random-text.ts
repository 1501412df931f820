/**
 * Seeded random input for fuzz tests: the same seed gives the same cases, so a failure reproduces.
 */

/** Characters fuzz strings draw from: ASCII (control characters included, NUL excluded), shell metacharacters, unicode. */
const ALPHABET = [
  ...Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)),
  ..."$`'\"\\*?[]{}()<>|&;~#!%^=\n\t\r ",
  "é", "ß", "ø", "中", "文", "→", "😀", "🚀", "\u00a0", "\u2028", "\u200b",
];

export interface RandomText {
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** A string of `minLength`..`maxLength` characters (code points) from a mixed alphabet; never contains NUL. */
  string(minLength: number, maxLength: number): string;
  /** A string drawn from `chars` only. */
  stringOf(chars: string, minLength: number, maxLength: number): string;
}

export function randomText(seed: number): RandomText {
  // mulberry32: small, fast, good enough for test inputs.
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = (chars: readonly string[], length: number): string =>
    Array.from({ length }, () => chars[int(0, chars.length - 1)] ?? "").join("");
  return {
    int,
    string: (minLength, maxLength) => pick(ALPHABET, int(minLength, maxLength)),
    stringOf: (chars, minLength, maxLength) => pick([...chars], int(minLength, maxLength)),
  };
}
