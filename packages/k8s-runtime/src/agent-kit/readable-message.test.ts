import { describe, expect, it } from "vitest";
import { firstReadableLine, readableLines, readableMessage } from "./readable-message.ts";

describe("readable messages", () => {
  it("strips colours, cursor moves, OSC links and stray control characters", () => {
    const coloured = "\u001b[91m\u001b[1mError: \u001b[0mSession not found\u001b[2K\u0007\r\n\u001b]8;;https://x\u0007link\u001b]8;;\u0007\n";
    expect(readableLines(coloured)).toEqual(["Error: Session not found", "link"]);
    expect(firstReadableLine("\n  \n\u001b[31m  boom  \u001b[0m\nmore")).toBe("boom");
    expect(firstReadableLine("\n \n")).toBeNull();
  });

  it("replaces raw JSON output, often cut mid-token, by a note", () => {
    expect(readableMessage('container exited 1, message: {"type":"assistant","message":{"content":[{"ty')).toBe(
      "container exited 1, message [raw output omitted]",
    );
    expect(readableMessage('{"type":"result","subt')).toBe("[raw output omitted]");
    expect(readableMessage("exit 1 [SIGKILL] {braces} stay")).toBe("exit 1 [SIGKILL] {braces} stay");
  });

  it("says nothing twice: repeated lines and parts contained in others are dropped", () => {
    const message = "OpenCode output ended: container exited 1, message: Error: bad flag; stderr: Error: bad flag\nError: bad flag\nError: bad flag";
    expect(readableMessage(message)).toBe("OpenCode output ended: container exited 1, message: Error: bad flag");
    expect(readableMessage("Error: x\nError: x is fatal")).toBe("Error: x is fatal");
  });

  it("is bounded, and never empty for text that had something in it", () => {
    expect(readableMessage("word ".repeat(1000), 50)).toHaveLength(50);
    expect(readableMessage("word ".repeat(1000), 50).endsWith("…")).toBe(true);
    expect(readableMessage("\u001b[0m")).toBe("[raw output omitted]");
    expect(readableMessage("")).toBe("");
  });
});
