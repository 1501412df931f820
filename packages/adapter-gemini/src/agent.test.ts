import { describe, expect, it } from "vitest";
import { models as geminiLocalModels } from "@paperclipai/adapter-gemini-local";
import { sessionCodec as geminiLocalSessionCodec } from "@paperclipai/adapter-gemini-local/server";
import { geminiAgent } from "./agent.ts";

describe("geminiAgent", () => {
  it("identifies itself as gemini_k8s", () => {
    expect(geminiAgent.type).toBe("gemini_k8s");
    expect(geminiAgent.containerName).toBe("gemini");
    expect(geminiAgent.capabilities).toEqual({ reportsTurnLimit: true, reportsCost: false });
  });

  it("offers the models gemini_local offers", () => {
    expect(geminiAgent.models).toEqual(geminiLocalModels);
  });

  it("documents every config field it declares", () => {
    for (const field of geminiAgent.configFields) expect(geminiAgent.configurationDoc).toContain(`\`${field.key}\``);
  });
});

describe("gemini session codec", () => {
  const codec = geminiAgent.sessionCodec;
  const params = { sessionId: "abfdbaed-be54-499e-9497-af224010cb7e", cwd: "/work/p", workspaceId: "ws", repoUrl: "https://x/r.git", repoRef: "main" };

  it("round-trips session params and reads gemini_local's", () => {
    expect(codec?.deserialize(codec.serialize(params))).toEqual(params);
    expect(codec?.getDisplayId?.(params)).toBe(params.sessionId);
    expect(codec?.deserialize(geminiLocalSessionCodec.serialize(params))).toEqual(params);
    expect(codec?.deserialize({ sessionID: "s-2", workdir: "/w" })).toEqual({ sessionId: "s-2", cwd: "/w" });
  });

  it("rejects params without a session id", () => {
    expect(codec?.deserialize({ cwd: "/x" })).toBeNull();
    expect(codec?.serialize(null)).toBeNull();
  });
});
