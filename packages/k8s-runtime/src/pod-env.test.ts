import type { V1Container } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { collectInheritedEnv, inheritEntryProblem } from "./pod-env.ts";

const serverEnv: Record<string, string> = {
  ANTHROPIC_API_KEY: "sk-ant-literal",
  ANTHROPIC_BASE_URL: "http://llm.local",
  OPENAI_API_KEY: "sk-openai-from-secret",
  AWS_REGION: "eu-central-1",
  HTTPS_PROXY: "http://proxy:3128",
  no_proxy: "localhost",
  DATABASE_URL: "postgres://paperclip:hunter2@db/paperclip",
  PAPERCLIP_AGENT_JWT_SECRET: "jwt-signing-secret",
  BETTER_AUTH_SECRET: "auth-secret",
  PAPERCLIP_PUBLIC_URL: "https://paperclip.example.com",
  HOME: "/home/paperclip",
  PATH: "/usr/bin",
  MY_TOOL_TOKEN: "tool-token",
  TEAM_A: "a",
  TEAM_B: "b",
  POD_NAME: "paperclip-0",
};

const serverContainer: V1Container = {
  name: "paperclip",
  env: [
    { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "llm-keys", key: "openai" } } },
    { name: "ANTHROPIC_BASE_URL", value: "http://llm.local" },
    { name: "AWS_PROFILE", valueFrom: { configMapKeyRef: { name: "aws", key: "profile", optional: true } } },
    { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "paperclip-db", key: "url" } } },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ],
  envFrom: [{ secretRef: { name: "paperclip-secrets" } }, { configMapRef: { name: "agent-settings" }, prefix: "AGENT_" }],
};

describe("collectInheritedEnv", () => {
  it("passes the default allowlist: literals to the Secret, references by reference", () => {
    const env = collectInheritedEnv({ processEnv: serverEnv, serverContainer, inheritEnv: [] });
    expect(env.secretValues).toEqual({
      ANTHROPIC_API_KEY: "sk-ant-literal",
      ANTHROPIC_BASE_URL: "http://llm.local",
      AWS_REGION: "eu-central-1",
      HTTPS_PROXY: "http://proxy:3128",
      no_proxy: "localhost",
    });
    expect(env.references).toEqual([
      { name: "AWS_PROFILE", valueFrom: { configMapKeyRef: { name: "aws", key: "profile", optional: true } } },
      { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "llm-keys", key: "openai" } } },
    ]);
    expect(env.envFrom).toEqual([]);
  });

  it("never passes database URLs or Paperclip's secrets by default", () => {
    const env = collectInheritedEnv({ processEnv: serverEnv, serverContainer, inheritEnv: [] });
    const everything = JSON.stringify(env);
    for (const leaked of ["DATABASE_URL", "hunter2", "paperclip-db", "jwt-signing-secret", "auth-secret", "PAPERCLIP_", "HOME", "PATH", "paperclip-secrets"]) {
      expect(everything).not.toContain(leaked);
    }
  });

  it("adds names and prefixes from inheritEnv, and DATABASE_URL only when named explicitly", () => {
    const env = collectInheritedEnv({
      processEnv: serverEnv,
      serverContainer,
      inheritEnv: ["MY_TOOL_TOKEN", "TEAM_*", "DATABASE_URL", "POD_NAME"],
    });
    expect(env.secretValues).toMatchObject({ MY_TOOL_TOKEN: "tool-token", TEAM_A: "a", TEAM_B: "b" });
    // Passed by the same reference, not as the literal the server sees.
    expect(env.references).toContainEqual({ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "paperclip-db", key: "url" } } });
    expect(env.secretValues.DATABASE_URL).toBeUndefined();
    // A fieldRef would name the agent's own pod: the server's value is passed instead.
    expect(env.secretValues.POD_NAME).toBe("paperclip-0");
  });

  it("never passes PAPERCLIP_* or BETTER_AUTH_* even through a broad pattern", () => {
    const env = collectInheritedEnv({ processEnv: serverEnv, inheritEnv: ["P*", "B*"] });
    expect(Object.keys(env.secretValues).filter((name) => name.startsWith("PAPERCLIP_") || name.startsWith("BETTER_AUTH_"))).toEqual([]);
    expect(env.secretValues.PATH).toBe("/usr/bin");
  });

  it("passes envFrom sources only when inheritEnv names them, as the server has them", () => {
    const env = collectInheritedEnv({
      processEnv: serverEnv,
      serverContainer,
      inheritEnv: ["configMapRef:agent-settings", "secretRef:agent-credentials"],
    });
    expect(env.envFrom).toEqual([
      { configMapRef: { name: "agent-settings" }, prefix: "AGENT_" },
      { secretRef: { name: "agent-credentials" } },
    ]);
  });

  it("works outside a pod from the process environment alone", () => {
    const env = collectInheritedEnv({ processEnv: { OPENAI_API_KEY: "sk", "BAD-NAME": "x", CLAUDE_CODE_USE_BEDROCK: "1" }, inheritEnv: [] });
    expect(env).toEqual({ secretValues: { CLAUDE_CODE_USE_BEDROCK: "1", OPENAI_API_KEY: "sk" }, references: [], envFrom: [] });
  });
});

describe("inheritEntryProblem", () => {
  it.each(["MY_VAR", "TEAM_*", "secretRef:agent-credentials", "configMapRef:settings.v1"])("accepts %s", (entry) => {
    expect(inheritEntryProblem(entry)).toBeNull();
  });

  it.each([
    ["*", "whole environment"],
    ["PAPERCLIP_AGENT_JWT_SECRET", "never passed"],
    ["PAPERCLIP_*", "never passed"],
    ["BETTER_AUTH_SECRET", "never passed"],
    ["MY-VAR", "not an env var name"],
    ["A*B", "not an env var name"],
    ["", "not an env var name"],
    ["secretRef:Bad_Name", "not a valid object name"],
  ])("refuses %j", (entry, problem) => {
    expect(inheritEntryProblem(entry)).toContain(problem);
  });
});
