import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { V1Job } from "@kubernetes/client-node";
import { createRedactor, isPublicSetting, MIN_CUT_PIECE, MIN_SECRET_LENGTH, redactionMarker, runSecretValues } from "./redaction.ts";
import { buildRunSecret, runSecretEnv } from "./run-secret.ts";
import { oneLine } from "./startup-diagnosis.ts";

const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJydW4tMSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
const providerKey = "sk-ant-api03-Zq/8+Kx\"quote\\back/slash";
const unicodeKey = "pässwörd-ünïcode-Ω-😀";

describe("createRedactor", () => {
  const redactor = createRedactor({ PAPERCLIP_API_KEY: jwt, ANTHROPIC_API_KEY: providerKey, DB_PASSWORD: unicodeKey });

  it("replaces a value printed as is, naming the variable", () => {
    expect(redactor.redact(`token: ${jwt} and again ${jwt}`)).toBe(
      `token: ${redactionMarker("PAPERCLIP_API_KEY")} and again ${redactionMarker("PAPERCLIP_API_KEY")}`,
    );
  });

  it("catches values inside NDJSON as JSON.stringify writes them, and the line stays valid JSON", () => {
    const line = JSON.stringify({ type: "assistant", text: `use ${providerKey} or ${unicodeKey}` });
    const redacted = redactor.redact(line);
    expect(redacted).not.toBe(line);
    const parsed: unknown = JSON.parse(redacted);
    expect(parsed).toEqual({
      type: "assistant",
      text: `use ${redactionMarker("ANTHROPIC_API_KEY")} or ${redactionMarker("DB_PASSWORD")}`,
    });
  });

  it("catches Python's json.dumps forms (ASCII-only escapes, and the default separators)", () => {
    const script = "import json,sys; print(json.dumps({'k': sys.argv[1], 'p': sys.argv[2]}))";
    let line: string;
    try {
      line = execFileSync("python3", ["-c", script, unicodeKey, providerKey], { encoding: "utf8" }).trim();
    } catch {
      // No Python on this machine: the same bytes json.dumps(ensure_ascii=True) writes.
      line = `{"k": ${JSON.stringify(unicodeKey).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}, "p": ${JSON.stringify(providerKey)}}`;
    }
    expect(line).toContain("\\u00e4");
    expect(JSON.parse(redactor.redact(line))).toEqual({ k: redactionMarker("DB_PASSWORD"), p: redactionMarker("ANTHROPIC_API_KEY") });
  });

  it("catches a value inside base64 text at every alignment, standard and URL-safe", () => {
    for (const prefix of ["", "a", "ab", "abc", "abcd"]) {
      const encoded = Buffer.from(`${prefix}Authorization: Bearer ${jwt}; more text after it`).toString("base64");
      const redacted = redactor.redact(`payload ${encoded}`);
      expect(redacted).toContain(redactionMarker("PAPERCLIP_API_KEY"));
      const urlSafe = encoded.replaceAll("+", "-").replaceAll("/", "_");
      expect(redactor.redact(urlSafe)).toContain(redactionMarker("PAPERCLIP_API_KEY"));
      // What is left around the marker cannot give back more than two bytes at each end.
      const [before = "", after = ""] = redacted.slice("payload ".length).split(redactionMarker("PAPERCLIP_API_KEY"));
      const visible = Buffer.from(before, "base64").toString("latin1") + Buffer.from(after, "base64").toString("latin1");
      expect(visible).not.toContain(jwt.slice(0, 3));
    }
  });

  it("catches each line of a multi-line value on its own", () => {
    const pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END KEY-----";
    const pemRedactor = createRedactor({ TLS_KEY: pem });
    const lines = pem.split("\n").map((line) => pemRedactor.redact(line));
    expect(lines).toEqual(Array(4).fill(redactionMarker("TLS_KEY")));
  });

  it(`leaves values shorter than ${MIN_SECRET_LENGTH} characters alone, so transcripts are not shredded`, () => {
    const short = createRedactor({ DEBUG: "true", PORT: "8080", EMPTY: "", UNSET: undefined });
    const line = '{"debug":true,"port":8080}';
    expect(short.redact(line)).toBe(line);
  });

  it("prefers the longer of two secrets where one contains the other", () => {
    const nested = createRedactor({ SHORT_ONE: "abcdefgh", LONG_ONE: "xxabcdefghyy" });
    expect(nested.redact("xxabcdefghyy abcdefgh")).toBe(`${redactionMarker("LONG_ONE")} ${redactionMarker("SHORT_ONE")}`);
  });

  it("takes regular-expression characters in a value literally", () => {
    const tricky = createRedactor({ PATTERN: "a.b*c+d?(e)[f]{g}|h^$\\i/j-k" });
    expect(tricky.redact("axbbbcdde a.b*c+d?(e)[f]{g}|h^$\\i/j-k")).toBe(`axbbbcdde ${redactionMarker("PATTERN")}`);
  });

  it("at a cut, redacts the first part of a secret that runs into it, whatever its length", () => {
    for (let keep = 1; keep < jwt.length; keep++) {
      const text = `prefix ${jwt.slice(0, keep)}`;
      const note = " … [line truncated]";
      const redacted = redactor.redactCut(text + note, text.length);
      expect(redacted).toBe(`prefix ${redactionMarker("PAPERCLIP_API_KEY")}${note}`);
    }
  });

  it("at a cut, leaves text alone that no secret starts at", () => {
    const text = `${"x".repeat(100)} the end`;
    expect(redactor.redactCut(`${text} [cut]`, text.length)).toBe(`${text} [cut]`);
  });

  it("redacts every string of a result deeply, keys included, and keeps other values", () => {
    const when = new Date(0);
    const result = {
      exitCode: 1,
      errorMessage: `failed with ${jwt}`,
      resultJson: { nested: [{ text: providerKey }, 42, null, true], [jwt]: "key" },
      when,
    };
    expect(redactor.redactDeep(result)).toEqual({
      exitCode: 1,
      errorMessage: `failed with ${redactionMarker("PAPERCLIP_API_KEY")}`,
      resultJson: {
        nested: [{ text: redactionMarker("ANTHROPIC_API_KEY") }, 42, null, true],
        [redactionMarker("PAPERCLIP_API_KEY")]: "key",
      },
      when,
    });
    expect(result.errorMessage).toContain(jwt);
  });

  it("redacts inside client-node's model objects (the pod status in errorMeta) and copes with cycles", async () => {
    const { ObjectSerializer } = await import("@kubernetes/client-node/dist/gen/models/ObjectSerializer.js");
    const terminated = { exitCode: 1, message: `last words: ${jwt}`, finishedAt: "2026-01-01T00:00:00Z" };
    const status: unknown = ObjectSerializer.deserialize({ phase: "Failed", containerStatuses: [{ name: "agent", state: { terminated } }] }, "V1PodStatus", "");
    const cyclic: Record<string, unknown> = { note: jwt };
    cyclic.self = cyclic;
    const redacted = redactor.redactDeep({ errorMeta: { lastPodStatus: status, cyclic } });
    const text = JSON.stringify(redacted.errorMeta.lastPodStatus);
    expect(text).toContain(`last words: ${redactionMarker("PAPERCLIP_API_KEY")}`);
    expect(text).not.toContain(jwt);
    expect(text).toContain('"finishedAt":"2026-01-01T00:00:00.000Z"');
    const copy = redacted.errorMeta.cyclic;
    expect(copy.note).toBe(redactionMarker("PAPERCLIP_API_KEY"));
    expect(copy.self).toBe(copy);
  });

  it("in results, redacts a piece of a secret cut off beside a … (a message shortened to one line, a tail)", () => {
    const message = `the agent wrote: ${jwt} and more`;
    for (const maxChars of [22, 24, 40, 60]) {
      const cut = oneLine(message, maxChars);
      expect(cut.endsWith("…")).toBe(true);
      const redacted = redactor.redactDeep({ errorMessage: cut }).errorMessage;
      expect(redacted).toBe(`the agent wrote: ${redactionMarker("PAPERCLIP_API_KEY")}…`);
    }
    const tail = `…${jwt.slice(-20)} and the rest`;
    expect(redactor.redactDeep([tail])).toEqual([`…${redactionMarker("PAPERCLIP_API_KEY")} and the rest`]);
    // Pieces shorter than MIN_CUT_PIECE, and ordinary ellipses, stay.
    const ordinary = `Thinking… done. ${jwt.slice(0, MIN_CUT_PIECE - 1)}… …${jwt.slice(-(MIN_CUT_PIECE - 1))}`;
    expect(redactor.redactDeep(ordinary)).toBe(ordinary);
  });

  it("with no secrets, hands back what it was given", () => {
    const none = createRedactor({});
    const value = { a: "b" };
    expect(none.redactDeep(value)).toBe(value);
    expect(none.redact("text")).toBe("text");
  });
});

describe("runSecretValues", () => {
  it("takes the run Secret's values and the server's values of variables passed by secretKeyRef, not public settings", () => {
    const secret = buildRunSecret({
      name: "run-secret",
      namespace: "default",
      labels: {},
      holder: { agentId: "agent-1", runId: "run-1", jobName: "job-1" },
      values: { PAPERCLIP_API_KEY: jwt, MY_SERVICE_TOKEN: "config-secret-value", ANTHROPIC_MODEL: "claude-sonnet-4-5", AWS_REGION: "us-east-1" },
    });
    const job: V1Job = {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: "agent",
                env: [
                  ...runSecretEnv("run-secret", Object.keys(secret.data ?? {})),
                  { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "server-secrets", key: "openai" } } },
                  { name: "OPENAI_BASE_URL", valueFrom: { configMapKeyRef: { name: "server-config", key: "url" } } },
                  { name: "GOOGLE_CLOUD_PROJECT", valueFrom: { secretKeyRef: { name: "server-secrets", key: "project" } } },
                ],
              },
            ],
          },
        },
      },
    };
    const processEnv = {
      OPENAI_API_KEY: "sk-openai-from-server",
      OPENAI_BASE_URL: "https://llm.example.test/v1",
      GOOGLE_CLOUD_PROJECT: "my-gcp-project",
      MY_SERVICE_TOKEN: "the server's own value",
    };
    expect(runSecretValues(secret, job, processEnv)).toEqual({
      PAPERCLIP_API_KEY: jwt,
      MY_SERVICE_TOKEN: "config-secret-value",
      OPENAI_API_KEY: "sk-openai-from-server",
    });
  });

  it("never counts a name with a secret's word in it as a public setting", () => {
    expect(
      ["ANTHROPIC_MODEL", "ANTHROPIC_SMALL_FAST_MODEL", "AWS_DEFAULT_REGION", "CLOUD_ML_REGION", "GOOGLE_CLOUD_LOCATION", "NO_PROXY", "PAPERCLIP_GITHUB_HOST_HOME", "PAPERCLIP_TASK_SCRATCH_DIR", "PAPERCLIP_WORKSPACE_CWD"].every(isPublicSetting),
    ).toBe(true);
    expect(["ANTHROPIC_API_KEY", "MY_TOKEN_REGION", "AWS_SESSION_TOKEN", "MODEL_PASSWORD", "HTTPS_PROXY", "MODEL", "SECRET_KEY_PATH", "AUTH_HOME"].some(isPublicSetting)).toBe(false);
  });
});
