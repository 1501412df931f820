import { describe, expect, it } from "vitest";
import { readBoolean, readChoice, readExtraArgs, readPositiveInteger, readText } from "./config-values.ts";

describe("config readers", () => {
  it("readBoolean takes booleans and their string forms, else the fallback", () => {
    expect(readBoolean({ flag: true }, "flag", false)).toBe(true);
    expect(readBoolean({ flag: "false" }, "flag", true)).toBe(false);
    expect(readBoolean({}, "flag", true)).toBe(true);
    expect(() => readBoolean({ flag: "yes" }, "flag", false)).toThrow('flag must be true or false, got "yes"');
  });

  it("readPositiveInteger treats unset, blank and 0 as no value", () => {
    expect(readPositiveInteger({ maxTurns: 5 }, "maxTurns")).toBe(5);
    expect(readPositiveInteger({ maxTurns: " 12 " }, "maxTurns")).toBe(12);
    for (const value of [undefined, null, "", 0, "0"]) expect(readPositiveInteger({ maxTurns: value }, "maxTurns")).toBeNull();
    for (const value of [-1, 1.5, "ten", true]) {
      expect(() => readPositiveInteger({ maxTurns: value }, "maxTurns")).toThrow("maxTurns must be a positive integer");
    }
  });

  it("readChoice matches case-insensitively and names the choices when nothing matches", () => {
    const levels = ["low", "high"] as const;
    expect(readChoice({ effort: " HIGH " }, "effort", levels)).toBe("high");
    expect(readChoice({ effort: "" }, "effort", levels)).toBeNull();
    expect(readChoice({}, "effort", levels)).toBeNull();
    expect(() => readChoice({ effort: "max" }, "effort", levels)).toThrow('effort must be one of low, high, got "max"');
    expect(() => readChoice({ effort: 2 }, "effort", levels)).toThrow("effort must be one of low, high, got 2");
  });

  it("readText trims and treats blank as unset", () => {
    expect(readText({ model: " a/b " }, "model")).toBe("a/b");
    expect(readText({ model: "  " }, "model")).toBeNull();
    expect(() => readText({ model: 3 }, "model")).toThrow("model must be a string, got 3");
  });

  it("readExtraArgs keeps list elements whole and splits a string on whitespace", () => {
    expect(readExtraArgs({ extraArgs: ["--flag", "two words"] })).toEqual(["--flag", "two words"]);
    expect(readExtraArgs({ extraArgs: " --a  b " })).toEqual(["--a", "b"]);
    expect(readExtraArgs({})).toEqual([]);
    expect(() => readExtraArgs({ extraArgs: ["ok", 1] })).toThrow("extraArgs[1] must be a string, got 1");
    expect(() => readExtraArgs({ extraArgs: { a: 1 } })).toThrow("extraArgs must be a list of strings or a string");
  });
});
