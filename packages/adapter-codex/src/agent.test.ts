import { models as paperclipModels } from "@paperclipai/adapter-codex-local";
import { getConfigSchema } from "@paperclipai/adapter-codex-local/server";
import { describe, expect, it } from "vitest";
import { codexAgent } from "./agent.ts";

describe("codexAgent", () => {
  it("offers codex_local's models, in its order", () => {
    expect(codexAgent.models).toEqual(paperclipModels);
  });

  it("documents every key it lists, and lists none of codex_local's ACP-only keys", () => {
    const keys = codexAgent.configFields.map((field) => field.key);
    for (const key of keys) expect(codexAgent.configurationDoc, key).toContain(`\`${key}\``);
    const acpOnly = getConfigSchema().fields.map((field) => field.key);
    expect(keys.filter((key) => acpOnly.includes(key))).toEqual([]);
  });
});
