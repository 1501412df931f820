import { describe, expect, it } from "vitest";
import { sessionCodec as claudeLocalSessionCodec } from "@paperclipai/adapter-claude-local/server";
import { models as claudeLocalModels } from "@paperclipai/adapter-claude-local";
import { claudeAgent } from "./agent.ts";
import { readCliFixture, parseStdout } from "paperclip-k8s-runtime/testing";

describe("claudeAgent", () => {
  it("identifies itself as claude_k8s", () => {
    expect(claudeAgent.type).toBe("claude_k8s");
    expect(claudeAgent.containerName).toBe("claude");
    expect(claudeAgent.capabilities).toEqual({ reportsTurnLimit: true, reportsCost: true });
  });

  it("runs a fixture end to end through its own parser and interpret", () => {
    const fixture = readCliFixture("claude", "max-turns");
    const verdict = claudeAgent.interpret(parseStdout(claudeAgent.createParser(), fixture.stdout), fixture.outcome, fixture.facts);
    expect(verdict.errorCode).toBe("max_turns_exhausted");
  });

  it("reports the model the CLI names, else the one the run asked for", () => {
    const interpret = (scenario: string) => {
      const fixture = readCliFixture("claude", scenario);
      return claudeAgent.interpret(parseStdout(claudeAgent.createParser(), fixture.stdout), fixture.outcome, { ...fixture.facts, model: "claude-opus-4-1" });
    };
    expect(interpret("happy").model).toBe("claude-sonnet-4-5");
    // A bogus --resume prints only a result line, which names no model.
    expect(interpret("resume-bogus-uuid").model).toBe("claude-opus-4-1");
  });

  it("offers the models claude_local offers", () => {
    expect(claudeAgent.models).toEqual(claudeLocalModels);
  });

  it("documents every config field it declares", () => {
    for (const field of claudeAgent.configFields) expect(claudeAgent.configurationDoc).toContain(`\`${field.key}\``);
  });
});

describe("claude session codec", () => {
  const codec = claudeAgent.sessionCodec;
  const params = {
    sessionId: "a89c43b3-6a48-41aa-b7ac-b2cf3169b755",
    cwd: "/work/project",
    workspaceId: "ws-1",
    repoUrl: "https://example.com/repo.git",
    repoRef: "main",
  };

  it("round-trips session params", () => {
    expect(codec?.deserialize(codec.serialize(params))).toEqual(params);
    expect(codec?.getDisplayId?.(params)).toBe(params.sessionId);
  });

  it("reads params stored by claude_local, and drops what it does not know", () => {
    const stored = claudeLocalSessionCodec.serialize({ ...params, promptBundleKey: "k" });
    expect(codec?.deserialize(stored)).toEqual(params);
    expect(codec?.deserialize({ session_id: " s-2 ", repo_ref: "dev" })).toEqual({ sessionId: "s-2", repoRef: "dev" });
  });

  it("rejects params without a session id", () => {
    expect(codec?.deserialize({ cwd: "/x" })).toBeNull();
    expect(codec?.deserialize("s-1")).toBeNull();
    expect(codec?.serialize(null)).toBeNull();
    expect(codec?.getDisplayId?.({ sessionId: "  " })).toBeNull();
  });
});
