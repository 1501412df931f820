/**
 * Error messages are read by people in Paperclip's run page, and their text comes from the agent (stderr, its
 * output, the container's termination message): hostile and noisy. These helpers make such text readable.
 */

/** CSI sequences (colours, cursor moves), OSC sequences (titles, links) and other two-byte escapes. */
const TERMINAL_ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g;
/** C0 controls and DEL, except tab and the line breaks the callers split on. */
const CONTROL_CHARACTERS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
/** Where raw JSON output starts inside a line: an object or array whose first member is a string. */
const RAW_JSON_START = /[{[]\s*"/;
const DEFAULT_MAX_CHARS = 1000;

export function stripTerminalEscapes(text: string): string {
  return text.replace(TERMINAL_ESCAPES, "").replace(CONTROL_CHARACTERS, "");
}

/** The non-blank lines of CLI text (e.g. stderr) as people read them: no escapes, trimmed, inner spaces collapsed. */
export function readableLines(text: string): string[] {
  return stripTerminalEscapes(text)
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => line !== "");
}

/** The first non-blank line of CLI text, readable; null when there is none. */
export function firstReadableLine(text: string): string | null {
  return readableLines(text)[0] ?? null;
}

/**
 * One message for people: no terminal escapes, raw JSON output replaced by a note (it is often cut mid-token),
 * no part said twice (CLIs print the same error to several places), bounded in length.
 */
export function readableMessage(text: string, maxChars = DEFAULT_MAX_CHARS): string {
  const kept: string[] = [];
  for (const line of readableLines(text)) {
    for (const part of line.split(/;\s+/)) {
      const readable = withoutRawJson(part);
      // "stderr: X" after a termination message that already said X says it twice.
      const unlabelled = readable.replace(/^[\w ]{1,24}:\s+/, "");
      const said = (earlier: string) => earlier.includes(readable) || (unlabelled.length >= 8 && earlier.includes(unlabelled));
      if (readable === "" || kept.some(said)) continue;
      // A later, fuller part replaces the earlier ones it contains.
      for (let index = kept.length - 1; index >= 0; index -= 1) if (readable.includes(kept[index] ?? "")) kept.splice(index, 1);
      kept.push(readable);
    }
  }
  // Never empty for text that had something in it: an empty message would read as success.
  const message = kept.join("; ") || (text.trim() === "" ? "" : "[raw output omitted]");
  return message.length <= maxChars ? message : `${message.slice(0, maxChars - 1).trimEnd()}…`;
}

/** The part before any raw JSON output in it, with a note saying output was left out. */
function withoutRawJson(part: string): string {
  const start = RAW_JSON_START.exec(part);
  if (start === null) return part;
  const before = part.slice(0, start.index).replace(/[\s:,=-]+$/, "");
  return before === "" ? "" : `${before} [raw output omitted]`;
}
