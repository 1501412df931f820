import { describe, expect, it } from "vitest";
import { isDns1123Label, isDns1123Subdomain, isEnvName, isLabelValue, labelKeyProblem, parseQuantity } from "./k8s-syntax.ts";

describe("Kubernetes syntax", () => {
  it("checks DNS names", () => {
    expect(isDns1123Label("paperclip-agents")).toBe(true);
    expect(isDns1123Label("Paperclip")).toBe(false);
    expect(isDns1123Label("a".repeat(64))).toBe(false);
    expect(isDns1123Label("-a")).toBe(false);
    expect(isDns1123Subdomain("regcred.example.com")).toBe(true);
    expect(isDns1123Subdomain("a..b")).toBe(false);
    expect(isDns1123Subdomain("a_b")).toBe(false);
  });

  it("checks label keys and values", () => {
    expect(labelKeyProblem("team")).toBeNull();
    expect(labelKeyProblem("example.com/Team_1")).toBeNull();
    expect(labelKeyProblem("Example.com/team")).toContain("prefix");
    expect(labelKeyProblem("example.com/")).toContain("name");
    expect(labelKeyProblem("team-")).toContain("name");
    expect(labelKeyProblem("a".repeat(64))).toContain("name");
    expect(isLabelValue("")).toBe(true);
    expect(isLabelValue("v1.2_x")).toBe(true);
    expect(isLabelValue("v1.")).toBe(false);
    expect(isLabelValue("a b")).toBe(false);
  });

  it("checks env names", () => {
    expect(isEnvName("ANTHROPIC_API_KEY")).toBe(true);
    expect(isEnvName("_x1")).toBe(true);
    expect(isEnvName("1X")).toBe(false);
    expect(isEnvName("A-B")).toBe(false);
    expect(isEnvName("")).toBe(false);
  });

  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["1.5", 1.5],
    ["0.5Gi", 2 ** 29],
    ["512Mi", 512 * 2 ** 20],
    ["1G", 1e9],
    ["1e3", 1000],
    ["1E-3", 0.001],
    [".5", 0.5],
    ["5.", 5],
    ["+1k", 1000],
  ])("parses quantity %s", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 9);
  });

  it.each(["", "-1", "1.5.2", "abc", "1gi", "1 Gi", "1Gii", "Mi", "1e"])("refuses quantity %j", (text) => {
    expect(parseQuantity(text)).toBeNull();
  });
});
