/**
 * Redaction of the run's secret values (the run JWT, inherited provider keys, config `env` values) from everything
 * the runtime hands back to Paperclip: log lines, messages, result JSON. The agent may print any of them, by mistake
 * or on purpose; Paperclip stores and shows what it gets.
 *
 * A value is matched in the forms it takes in a transcript: as is, JSON-escaped (NDJSON), with non-ASCII as `\uXXXX`
 * escapes, with `/` escaped, each line of a multi-line value, and inside base64 (standard and URL-safe, at each of the
 * three byte alignments; the one or two bytes sharing a base64 group with their neighbours stay visible).
 * Values shorter than `MIN_SECRET_LENGTH` are not treated as secrets: `true`, `1` or `8080` would shred transcripts
 * and hide nothing.
 */

import type { V1Job, V1Secret } from "@kubernetes/client-node";

/** Shortest value (and shortest form of one) that is redacted. */
export const MIN_SECRET_LENGTH = 8;

/**
 * Shortest piece of a secret redacted beside a `…` in a result's strings (the mark of text shortened by someone else,
 * e.g. a message cut to one line): shorter pieces give nothing away, and would make ordinary ellipses look redacted.
 */
export const MIN_CUT_PIECE = 4;
const ELLIPSIS = "…";

export function redactionMarker(name: string): string {
  return `[redacted:${name}]`;
}

export interface Redactor {
  /** `text` with every form of every secret replaced by `[redacted:NAME]`. */
  redact(text: string): string;
  /**
   * `text` whose first `cutAt` characters are the start of a longer text that was cut there (a line over the
   * tailer's cap): a secret cut in half at that point has its first part redacted too.
   */
  redactCut(text: string, cutAt: number): string;
  /**
   * A copy of a JSON-like value with every string redacted, deeply (keys too), including pieces of secrets
   * (`MIN_CUT_PIECE` or longer) cut off beside a `…`. Objects are copied as what JSON carries of them, their own
   * enumerable properties (client-node's model classes included); dates and byte arrays are kept as they are.
   */
  redactDeep<T>(value: T): T;
}

/** `NAME → value` of every secret the run carries; empty and short values are skipped. */
export function createRedactor(secrets: Readonly<Record<string, string | undefined>>): Redactor {
  const nameOfForm = new Map<string, string>();
  for (const [name, value] of Object.entries(secrets)) {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) continue;
    for (const form of formsOf(value)) if (!nameOfForm.has(form)) nameOfForm.set(form, name);
  }
  if (nameOfForm.size === 0) return NOTHING_TO_REDACT;
  // Longest first: where one secret contains another, the longer one is replaced whole.
  const forms = [...nameOfForm.keys()].sort((a, b) => b.length - a.length);
  const shortest = forms[forms.length - 1]?.length ?? MIN_SECRET_LENGTH;
  const pattern = new RegExp(forms.map(escapeRegExp).join("|"), "g");
  const replace = (form: string): string => redactionMarker(nameOfForm.get(form) ?? "secret");

  const grams = gramFilter(forms);

  const redact = (text: string): string => {
    // Fast path for the common case: most lines are shorter than any secret, or contain none.
    if (text.length < shortest || !grams.mayContain(text)) return text;
    pattern.lastIndex = 0;
    if (!pattern.test(text)) return text;
    return text.replace(pattern, replace);
  };

  /** The longest beginning of a form (at least `minPiece` long) that `text` ends with. */
  const beginningAtEnd = (text: string, minPiece: number): { start: number; form: string } | null => {
    // The earliest start wins: it covers every shorter piece after it.
    let cut: { start: number; form: string } | null = null;
    for (const form of forms) {
      const start = cutSecretStart(text, cut === null ? text.length - minPiece + 1 : cut.start, form);
      if (start !== -1) cut = { start, form };
    }
    return cut;
  };

  /** The longest end of a form (at least `minPiece` long) that `text` has at `from`. */
  const endingAt = (text: string, from: number, minPiece: number): { end: number; form: string } | null => {
    let cut: { end: number; form: string } | null = null;
    for (const form of forms) {
      // Longest first, and only longer than the piece already found.
      const shortest = Math.max(minPiece, cut === null ? 0 : cut.end - from + 1);
      for (let length = Math.min(form.length - 1, text.length - from); length >= shortest; length--) {
        if (text.startsWith(form.slice(form.length - length), from)) {
          cut = { end: from + length, form };
          break;
        }
      }
    }
    return cut;
  };

  const redactCut = (text: string, cutAt: number): string => {
    const kept = redact(text.slice(0, cutAt));
    const rest = redact(text.slice(cutAt));
    const cut = beginningAtEnd(kept, 1);
    return cut === null ? kept + rest : `${kept.slice(0, cut.start)}${replace(cut.form)}${rest}`;
  };

  /** Pieces of secrets beside a `…` (text shortened before it reached the runtime's redaction) are redacted too. */
  const redactAroundEllipses = (text: string): string => {
    if (!text.includes(ELLIPSIS)) return text;
    let redacted = "";
    let from = 0;
    for (let at = text.indexOf(ELLIPSIS); at !== -1; at = text.indexOf(ELLIPSIS, from)) {
      const before = text.slice(from, at);
      const beginning = beginningAtEnd(before, MIN_CUT_PIECE);
      redacted += beginning === null ? before : `${before.slice(0, beginning.start)}${replace(beginning.form)}`;
      redacted += ELLIPSIS;
      const ending = endingAt(text, at + ELLIPSIS.length, MIN_CUT_PIECE);
      if (ending !== null) redacted += replace(ending.form);
      from = ending === null ? at + ELLIPSIS.length : ending.end;
    }
    return redacted + text.slice(from);
  };

  // `copies` maps each object to its copy, so shared references and cycles are copied once, never followed for ever.
  const deep = (value: unknown, copies: WeakMap<object, unknown>): unknown => {
    if (typeof value === "string") return redactAroundEllipses(redact(value));
    if (typeof value !== "object" || value === null || value instanceof Date || ArrayBuffer.isView(value)) return value;
    const known = copies.get(value);
    if (known !== undefined) return known;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      copies.set(value, copy);
      for (const entry of value) copy.push(deep(entry, copies));
      return copy;
    }
    const copy: Record<string, unknown> = {};
    copies.set(value, copy);
    for (const [key, entry] of Object.entries(value)) copy[redact(key)] = deep(entry, copies);
    return copy;
  };

  return {
    redact,
    redactCut,
    // The same data back (what JSON carries of it): strings stay strings, arrays and objects are rebuilt key for key.
    redactDeep: <T>(value: T): T => deep(value, new WeakMap()) as T,
  };
}

/**
 * Settings that travel with the secrets but are not secret, and that transcripts and results are full of: a model name
 * (`ANTHROPIC_MODEL`) is in every CLI's init line and in the result's `model`, a region in every Bedrock model id, a
 * directory (Paperclip's heartbeat puts e.g. `PAPERCLIP_GITHUB_HOST_HOME` in the adapter's env) in every path the
 * agent prints and in the session's saved `cwd`. Redacting them would hide nothing and break what Paperclip reads
 * from the output (a redacted `cwd` made every resume fail). A name with a secret's word in it
 * never counts as a setting.
 */
const PUBLIC_SETTING = /_(MODEL|REGION|PROJECT|LOCATION|HOME|DIR|PATH|ROOT|CWD)$|^NO_PROXY$/i;
const SECRET_WORD = /KEY|TOKEN|SECRET|PASS|AUTH|CREDENTIAL|PRIVATE|SESSION|COOKIE/i;

export function isPublicSetting(name: string): boolean {
  return PUBLIC_SETTING.test(name) && !SECRET_WORD.test(name);
}

/**
 * The secret values a run carries, by env var name: the per-run Secret's (the run JWT, inherited literal values,
 * config `env` values), and the values of variables the pod gets by `secretKeyRef` as this server sees them (the
 * server's pod gets the same references); public settings (`isPublicSetting`) left out. Whole Secrets passed by
 * `envFrom` are opaque here: their values are not known.
 */
export function runSecretValues(
  secret: V1Secret | null,
  job: V1Job,
  processEnv: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const container of job.spec?.template.spec?.containers ?? []) {
    for (const variable of container.env ?? []) {
      const value = processEnv[variable.name];
      const reference = variable.valueFrom?.secretKeyRef;
      if (reference !== undefined && reference.name !== secret?.metadata?.name && value !== undefined) values[variable.name] = value;
    }
  }
  for (const [name, encoded] of Object.entries(secret?.data ?? {})) values[name] = Buffer.from(encoded, "base64").toString("utf8");
  for (const name of Object.keys(values)) if (isPublicSetting(name)) delete values[name];
  return values;
}

const NOTHING_TO_REDACT: Redactor = {
  redact: (text) => text,
  redactCut: (text) => text,
  redactDeep: (value) => value,
};

const GRAM = 4;
const GRAM_TABLE_BITS = 16;

function gramHash(text: string, at: number): number {
  let hash = 0;
  for (let i = at; i < at + GRAM; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash & ((1 << GRAM_TABLE_BITS) - 1);
}

/**
 * A cheap "cannot contain any form" test. Every form is at least 2·GRAM long, so wherever one occurs, one of the
 * text's GRAM-character pieces starting at a multiple of GRAM lies inside it, at an offset below GRAM into the form.
 * Those pieces of every form are hashed into a table; a text none of whose aligned pieces hits the table holds no
 * form. Hash collisions only send a text on to the full match.
 */
function gramFilter(forms: readonly string[]): { mayContain(text: string): boolean } {
  // One bit per hash (8 KiB): every live run holds one.
  const table = new Uint32Array((1 << GRAM_TABLE_BITS) / 32);
  const has = (hash: number) => ((table[hash >>> 5] ?? 0) & (1 << (hash & 31))) !== 0;
  for (const form of forms) {
    for (let offset = 0; offset < GRAM; offset++) {
      const hash = gramHash(form, offset);
      table[hash >>> 5] = (table[hash >>> 5] ?? 0) | (1 << (hash & 31));
    }
  }
  return {
    mayContain(text) {
      for (let at = 0; at + GRAM <= text.length; at += GRAM) if (has(gramHash(text, at))) return true;
      return false;
    },
  };
}

/** Where in `text` (before `until`) a beginning of `form` runs into the end (the cut), longest first; -1 when none does. */
function cutSecretStart(text: string, until: number, form: string): number {
  const first = form.charCodeAt(0);
  for (let start = Math.max(0, text.length - form.length + 1); start < until; start++) {
    if (text.charCodeAt(start) === first && form.startsWith(text.slice(start))) return start;
  }
  return -1;
}

function formsOf(value: string): string[] {
  const forms = new Set<string>();
  const addTextForms = (text: string): void => {
    forms.add(text);
    const json = JSON.stringify(text).slice(1, -1);
    forms.add(json);
    forms.add(json.replaceAll("/", "\\/"));
    forms.add(json.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`));
    forms.add(json.replace(/[^\x00-\x7f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`));
  };
  addTextForms(value);
  // A line of the transcript can hold only one line of a multi-line value (a PEM key, say).
  const lines = value.split(/\r?\n/);
  if (lines.length > 1) for (const line of lines) addTextForms(line);
  for (const core of base64Cores(value)) {
    forms.add(core);
    forms.add(core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
}

/**
 * The part of the base64 text that encodes only `value`'s bytes, for each alignment of `value` inside a longer
 * encoded text (it may start at any byte offset modulo 3).
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const aligned = Buffer.concat([Buffer.alloc(shift), bytes]);
    const wholeGroups = Math.floor(aligned.length / 3);
    // The first group mixes the neighbour's bytes with the value's unless the value starts it.
    cores.push(aligned.subarray(0, wholeGroups * 3).toString("base64").slice(shift === 0 ? 0 : 4));
  }
  return cores;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}
