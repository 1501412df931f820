import { describe, expect, it } from "vitest";
import { createSessionCodec } from "./session-codec.ts";

describe("createSessionCodec", () => {
  const params = { sessionId: "ses_1", cwd: "/work/p", workspaceId: "ws", repoUrl: "https://example.com/r.git", repoRef: "main" };

  it("round-trips session params and shows the session id", () => {
    const codec = createSessionCodec();
    expect(codec.deserialize(codec.serialize(params))).toEqual(params);
    expect(codec.getDisplayId?.(params)).toBe("ses_1");
  });

  it("reads snake-case spellings and `workdir`, trims, and drops unknown keys and blank values", () => {
    const codec = createSessionCodec();
    const stored = { session_id: " ses_2 ", workdir: "/w", workspace_id: "ws", repo_url: "", repo_ref: "dev", promptBundleKey: "k" };
    expect(codec.deserialize(stored)).toEqual({ sessionId: "ses_2", cwd: "/w", workspaceId: "ws", repoRef: "dev" });
  });

  it("reads the session id under the given aliases only", () => {
    const stored = { sessionID: "ses_3" };
    expect(createSessionCodec().deserialize(stored)).toBeNull();
    expect(createSessionCodec({ sessionIdAliases: ["sessionID"] }).deserialize(stored)).toEqual({ sessionId: "ses_3" });
  });

  it("prefers `sessionId` over the other spellings", () => {
    const codec = createSessionCodec({ sessionIdAliases: ["sessionID"] });
    expect(codec.deserialize({ sessionID: "alias", session_id: "snake", sessionId: "camel" })).toEqual({ sessionId: "camel" });
  });

  it("rejects params without a usable session id", () => {
    const codec = createSessionCodec();
    expect(codec.deserialize({ cwd: "/x" })).toBeNull();
    expect(codec.deserialize({ sessionId: 42 })).toBeNull();
    expect(codec.deserialize(["ses_1"])).toBeNull();
    expect(codec.deserialize("ses_1")).toBeNull();
    expect(codec.serialize(null)).toBeNull();
    expect(codec.getDisplayId?.({ sessionId: "  " })).toBeNull();
  });
});
