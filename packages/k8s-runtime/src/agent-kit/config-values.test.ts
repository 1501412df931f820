import { describe, expect, it } from "vitest";
import { ConfigValueError } from "../config-values.ts";
import { readChoice, readFlag, readPositiveInteger, readText } from "./config-values.ts";

describe("agent config readers", () => {
  it("readPositiveInteger treats unset, blank and 0 as no value", () => {
    expect(readPositiveInteger({ maxTurns: 5 }, "maxTurns")).toBe(5);
    expect(readPositiveInteger({ maxTurns: " 12 " }, "maxTurns")).toBe(12);
    for (const value of [undefined, null, "", 0, "0"]) expect(readPositiveInteger({ maxTurns: value }, "maxTurns")).toBeNull();
    for (const value of [-1, 1.5, "ten", true]) {
      expect(() => readPositiveInteger({ maxTurns: value }, "maxTurns")).toThrow("config.maxTurns must be a positive integer");
    }
  });

  it("readChoice matches case-insensitively and names the choices when nothing matches", () => {
    const levels = ["low", "high"] as const;
    expect(readChoice({ effort: " HIGH " }, "effort", levels)).toBe("high");
    expect(readChoice({ effort: "" }, "effort", levels)).toBeNull();
    expect(readChoice({}, "effort", levels)).toBeNull();
    expect(() => readChoice({ effort: "max" }, "effort", levels)).toThrow('config.effort must be one of low, high, got "max"');
    expect(() => readChoice({ effort: 2 }, "effort", levels)).toThrow("config.effort must be one of low, high, got 2");
  });

  it("readText trims and treats blank as unset", () => {
    expect(readText({ model: " a/b " }, "model")).toBe("a/b");
    expect(readText({ model: "  " }, "model")).toBeNull();
    expect(() => readText({ model: 3 }, "model")).toThrow("config.model must be a string, got 3");
  });

  it("readFlag takes booleans and their text, blank as unset", () => {
    expect(readFlag({ search: true }, "search")).toBe(true);
    expect(readFlag({ search: " FALSE " }, "search")).toBe(false);
    expect(readFlag({ search: "" }, "search")).toBeNull();
    expect(() => readFlag({ search: "yes" }, "search")).toThrow('config.search must be true or false, got "yes"');
  });

  it("throws the runtime's ConfigValueError naming the key, so a run reports k8s_config_invalid", () => {
    expect(() => readText({ variant: 3 }, "variant")).toThrow(ConfigValueError);
  });
});
