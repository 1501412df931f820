import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import type { LogStream } from "../pod-log-files.ts";
import { formatCriLine } from "../pod-log-files.ts";

/** Lines longer than this are split into `P` records, as containerd does. */
export const MAX_RECORD_BYTES = 16 * 1024;
const TAIL_LINES = 80;
const TAIL_BYTES = 2048;
const NEWLINE = 0x0a;

/** The largest cut ≤ `limit` that does not split a multi-byte UTF-8 character. */
function utf8Boundary(bytes: Buffer, limit: number): number {
  let cut = limit;
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut === 0 ? limit : cut;
}

/**
 * Writes one container's stdout/stderr to its CRI log file, byte for byte: complete lines as
 * `F` records, over-long lines and a trailing unterminated line as `P` records. Keeps the last
 * lines in memory for `FallbackToLogsOnError`.
 */
export class ContainerLogWriter {
  private readonly fd: number;
  private readonly pending: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly recent: Buffer[] = [];
  private closed = false;
  private lastRecordPartial = false;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, "a");
  }

  write(stream: LogStream, chunk: Buffer): void {
    let bytes = this.pending[stream].length > 0 ? Buffer.concat([this.pending[stream], chunk]) : chunk;
    let newline = bytes.indexOf(NEWLINE);
    while (newline >= 0) {
      this.record(stream, bytes.subarray(0, newline), true);
      bytes = bytes.subarray(newline + 1);
      newline = bytes.indexOf(NEWLINE);
    }
    while (bytes.length > MAX_RECORD_BYTES) {
      const cut = utf8Boundary(bytes, MAX_RECORD_BYTES);
      this.record(stream, bytes.subarray(0, cut), false);
      bytes = bytes.subarray(cut);
    }
    // Copy so the held remainder does not pin the (possibly large) chunk it came from.
    this.pending[stream] = Buffer.from(bytes);
  }

  /** Flushes unterminated output as `P` records and closes the file. */
  close(): void {
    if (this.closed) return;
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.pending[stream].length > 0) this.record(stream, this.pending[stream], false);
      this.pending[stream] = Buffer.alloc(0);
    }
    closeSync(this.fd);
    this.closed = true;
  }

  /** The last 80 lines of output, at most 2048 bytes: the kubelet's fallback termination message. */
  tail(): string {
    const text = Buffer.concat(this.recent.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from("\n"), line]))).toString("utf8");
    const bytes = Buffer.from(text);
    return bytes.length <= TAIL_BYTES ? text : bytes.subarray(bytes.length - TAIL_BYTES).toString("utf8");
  }

  private record(stream: LogStream, content: Buffer, full: boolean): void {
    // The record's prefix comes from the shared formatter, so writer and reader agree on the layout.
    const prefix = formatCriLine(stream, "", full).slice(0, -1);
    writeSync(this.fd, Buffer.concat([Buffer.from(prefix), content, Buffer.from("\n")]));
    this.remember(content, full);
  }

  private remember(content: Buffer, full: boolean): void {
    const last = this.recent.length - 1;
    const previous = this.recent[last];
    if (this.lastRecordPartial && previous) this.recent[last] = Buffer.concat([previous, content]);
    else this.recent.push(Buffer.from(content));
    this.lastRecordPartial = !full;
    if (this.recent.length > TAIL_LINES) this.recent.shift();
    let total = this.recent.reduce((sum, line) => sum + line.length + 1, 0);
    while (this.recent.length > 1 && total - (this.recent[0]?.length ?? 0) - 1 >= TAIL_BYTES) {
      total -= (this.recent.shift()?.length ?? 0) + 1;
    }
  }
}
