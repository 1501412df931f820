import path from "node:path";

/**
 * The file contract between the kubelet (writer) and the API's pod log subresource (reader):
 * one file per container, in the CRI logging format the real kubelet reads from containerd:
 * `<RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>`. `F` closes a line (its newline is
 * implied); `P` is a partial chunk whose content continues on the next record.
 */

export type LogStream = "stdout" | "stderr";

export interface CriLogRecord {
  /** RFC 3339 with nanoseconds, e.g. `2026-01-02T03:04:05.123456789Z`. */
  timestamp: string;
  stream: LogStream;
  /** True for `F` (a complete line), false for `P` (a chunk without its newline yet). */
  full: boolean;
  content: string;
}

/** `<rootDir>/logs/<namespace>_<podName>_<podUid>/<container>.log`, as the kubelet lays pod logs out. */
export function podLogPath(rootDir: string, namespace: string, podName: string, podUid: string, container: string): string {
  return path.join(podLogDir(rootDir, namespace, podName, podUid), `${container}.log`);
}

/** The directory holding every container log of one pod. */
export function podLogDir(rootDir: string, namespace: string, podName: string, podUid: string): string {
  return path.join(rootDir, "logs", `${namespace}_${podName}_${podUid}`);
}

/** RFC 3339 with nine fractional digits (JavaScript dates carry milliseconds; the rest is zero). */
export function rfc3339Nano(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/**
 * One record, newline-terminated, ready to append. `content` must not contain a newline: split
 * output on `\n` and write each complete line as `full`, a trailing remainder as partial.
 */
export function formatCriLine(stream: LogStream, content: string, full = true, date: Date = new Date()): string {
  if (content.includes("\n")) throw new Error("CRI log content must not contain a newline; split it into lines first");
  return `${rfc3339Nano(date)} ${stream} ${full ? "F" : "P"} ${content}\n`;
}

const CRI_LINE = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s;

/** Parses one record (without its trailing newline); undefined when the line is not CRI format. */
export function parseCriLine(line: string): CriLogRecord | undefined {
  const match = CRI_LINE.exec(line);
  if (!match) return undefined;
  const [, timestamp, stream, tag, content] = match;
  if (timestamp === undefined || content === undefined || (stream !== "stdout" && stream !== "stderr")) return undefined;
  return { timestamp, stream, full: tag === "F", content };
}
