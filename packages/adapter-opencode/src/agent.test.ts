import { describe, expect, it } from "vitest";
import { sessionCodec as openCodeLocalSessionCodec } from "@paperclipai/adapter-opencode-local/server";
import { models as openCodeLocalModels } from "@paperclipai/adapter-opencode-local";
import { opencodeAgent } from "./agent.ts";
import { readCliFixture, parseStdout } from "paperclip-k8s-runtime/testing";

describe("opencodeAgent", () => {
  it("identifies itself as opencode_k8s", () => {
    expect(opencodeAgent.type).toBe("opencode_k8s");
    expect(opencodeAgent.containerName).toBe("opencode");
    expect(opencodeAgent.capabilities).toEqual({ reportsTurnLimit: false, reportsCost: true });
  });

  it("runs a fixture end to end through its own parser and interpret", () => {
    const fixture = readCliFixture("opencode", "resume-bogus-id");
    const verdict = opencodeAgent.interpret(parseStdout(opencodeAgent.createParser(), fixture.stdout), fixture.outcome, fixture.facts);
    expect(verdict.errorCode).toBe("session_unavailable");
  });

  it("reports provider and model from the run's provider/model, which OpenCode's output never names", () => {
    const fixture = readCliFixture("opencode", "happy");
    const parsed = parseStdout(opencodeAgent.createParser(), fixture.stdout);
    const verdict = opencodeAgent.interpret(parsed, fixture.outcome, { ...fixture.facts, model: "mock/mock-model" });
    expect(verdict).toMatchObject({ model: "mock/mock-model", provider: "mock", biller: "mock" });
    expect(verdict.errorCode).toBeUndefined();
    expect(opencodeAgent.interpret(parsed, fixture.outcome, fixture.facts)).toMatchObject({ model: null, provider: null });
  });

  it("offers the models opencode_local offers", () => {
    expect(opencodeAgent.models).toEqual(openCodeLocalModels);
  });

  it("documents every config field it declares", () => {
    for (const field of opencodeAgent.configFields) expect(opencodeAgent.configurationDoc).toContain(`\`${field.key}\``);
  });
});

describe("opencode session codec", () => {
  const codec = opencodeAgent.sessionCodec;
  const params = { sessionId: "ses_df30babd8ffeFzKmLN3igMJ9Wv", cwd: "/work/p", workspaceId: "ws", repoUrl: "https://x/r.git", repoRef: "main" };

  it("round-trips session params and reads opencode_local's", () => {
    expect(codec?.deserialize(codec.serialize(params))).toEqual(params);
    expect(codec?.getDisplayId?.(params)).toBe(params.sessionId);
    expect(codec?.deserialize(openCodeLocalSessionCodec.serialize(params))).toEqual(params);
    expect(codec?.deserialize({ sessionID: "ses_2", workdir: "/w" })).toEqual({ sessionId: "ses_2", cwd: "/w" });
  });

  it("rejects params without a session id", () => {
    expect(codec?.deserialize({ cwd: "/x" })).toBeNull();
    expect(codec?.deserialize(["ses_1"])).toBeNull();
    expect(codec?.serialize(null)).toBeNull();
  });
});
