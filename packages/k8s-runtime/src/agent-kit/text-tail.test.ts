import { describe, expect, it } from "vitest";
import { TextTail } from "./text-tail.ts";

describe("TextTail", () => {
  it("keeps everything within the budget", () => {
    const tail = new TextTail(10);
    tail.push("abc");
    tail.push("def");
    expect(tail.join("|")).toBe("abc|def");
  });

  it("drops the oldest pieces beyond the budget and says so", () => {
    const tail = new TextTail(6);
    for (const piece of ["one", "two", "six"]) tail.push(piece);
    expect(tail.join("\n")).toBe("[…earlier text omitted]\ntwo\nsix");
  });

  it("keeps the end of a piece longer than the whole budget", () => {
    const tail = new TextTail(4);
    tail.push("abcdefgh");
    expect(tail.join(" ")).toBe("[…earlier text omitted] efgh");
  });
});
