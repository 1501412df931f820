import { describe, expect, it } from "vitest";
import { labelSelectorMatches, requiredNodeAffinityMatches } from "./label-selector.ts";

const labels = { "kubernetes.io/hostname": "n1", disk: "ssd", cores: "16" };

function affinity(...terms: object[]) {
  return { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } };
}

describe("required node affinity", () => {
  it("ANDs the expressions of a term and ORs the terms", () => {
    const ssdOnN2 = { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }, { key: "kubernetes.io/hostname", operator: "In", values: ["n2"] }] };
    const noGpu = { matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] };
    expect(requiredNodeAffinityMatches(affinity(ssdOnN2), "n1", labels)).toBe(false);
    expect(requiredNodeAffinityMatches(affinity(ssdOnN2, noGpu), "n1", labels)).toBe(true);
  });

  it("compares Gt and Lt as integers, matches metadata.name through matchFields, and an empty term matches nothing", () => {
    expect(requiredNodeAffinityMatches(affinity({ matchExpressions: [{ key: "cores", operator: "Gt", values: ["8"] }] }), "n1", labels)).toBe(true);
    expect(requiredNodeAffinityMatches(affinity({ matchExpressions: [{ key: "cores", operator: "Lt", values: ["8"] }] }), "n1", labels)).toBe(false);
    expect(requiredNodeAffinityMatches(affinity({ matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["n1"] }] }), "n1", labels)).toBe(false);
    expect(requiredNodeAffinityMatches(affinity({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }), "n1", labels)).toBe(true);
    expect(requiredNodeAffinityMatches(affinity({}), "n1", labels)).toBe(false);
    expect(requiredNodeAffinityMatches({}, "n1", labels)).toBe(true);
  });
});

describe("label selectors", () => {
  it("needs every matchLabels pair and every expression; an empty selector selects everything", () => {
    expect(labelSelectorMatches({ matchLabels: { disk: "ssd" }, matchExpressions: [{ key: "cores", operator: "NotIn", values: ["4"] }] }, labels)).toBe(true);
    expect(labelSelectorMatches({ matchLabels: { disk: "hdd" } }, labels)).toBe(false);
    expect(labelSelectorMatches({ matchExpressions: [{ key: "disk", operator: "Bogus" }] }, labels)).toBe(false);
    expect(labelSelectorMatches({}, labels)).toBe(true);
  });
});
