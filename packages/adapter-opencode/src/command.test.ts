import { describe, expect, it } from "vitest";
import { buildOpenCodeCommand } from "./command.ts";
import { cliFixtureScenarios, readCliFixture, sampleCommandInput } from "paperclip-k8s-runtime/testing";

const input = sampleCommandInput;
const runDir = input().runDir;

function runConfig(command: ReturnType<typeof buildOpenCodeCommand>): unknown {
  const text = command.runFiles?.["opencode-config.json"];
  return text === undefined ? null : JSON.parse(text);
}

const base = ["opencode", "run", "--format", "json"];

describe("buildOpenCodeCommand", () => {
  it("runs fresh with a run config that allows external directories by default", () => {
    const command = buildOpenCodeCommand(input());
    expect(command.argv).toEqual(base);
    expect(command.env).toEqual({
      OPENCODE_DISABLE_PROJECT_CONFIG: "true",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_CONFIG: `${runDir}/opencode-config.json`,
    });
    expect(runConfig(command)).toEqual({ permission: { external_directory: "allow" } });
  });

  it("writes no run config when nothing needs one", () => {
    const command = buildOpenCodeCommand(input({ dangerouslySkipPermissions: false }));
    expect(command.runFiles).toBeUndefined();
    expect(command.env.OPENCODE_CONFIG).toBeUndefined();
  });

  it("builds the argv the fixtures were recorded with", () => {
    for (const scenario of cliFixtureScenarios("opencode")) {
      const { argv } = readCliFixture("opencode", scenario);
      const value = (flag: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? null) : null);
      const command = buildOpenCodeCommand(input({ resumeSessionId: value("--session"), model: value("--model") }));
      expect([...command.argv].sort(), scenario).toEqual([...argv].sort());
    }
  });

  it("resumes, selects model and variant, and registers the model in the run config", () => {
    const command = buildOpenCodeCommand(
      input({ resumeSessionId: "ses_df30babd8ffeFzKmLN3igMJ9Wv", model: "openrouter/openai/gpt-oss-120b:nitro", config: { variant: " high " } }),
    );
    expect(command.argv).toEqual([
      ...base,
      "--session",
      "ses_df30babd8ffeFzKmLN3igMJ9Wv",
      "--model",
      "openrouter/openai/gpt-oss-120b:nitro",
      "--variant",
      "high",
    ]);
    expect(runConfig(command)).toEqual({
      permission: { external_directory: "allow" },
      provider: { openrouter: { models: { "openai/gpt-oss-120b:nitro": {} } } },
    });
  });

  it("lists instructions and the skills directory in the run config", () => {
    const command = buildOpenCodeCommand(
      input({ instructionsFile: `${runDir}/instructions.md`, skillsDir: `${runDir}/skills`, dangerouslySkipPermissions: false }),
    );
    expect(runConfig(command)).toEqual({ instructions: [`${runDir}/instructions.md`], skills: { paths: [`${runDir}/skills`] } });
    expect(command.argv).toEqual(base);
  });

  it("appends extra args last, as data", () => {
    const hostile = "$(touch /tmp/pwned); `id` 'q' \"d\"";
    expect(buildOpenCodeCommand(input({ model: "a/b", extraArgs: ["--print-logs", hostile] })).argv.slice(-2)).toEqual([
      "--print-logs",
      hostile,
    ]);
  });

  it("rejects bad values with an error naming the key", () => {
    expect(() => buildOpenCodeCommand(input({ model: "gpt-5" }))).toThrow(/model must be "provider\/model"/);
    expect(() => buildOpenCodeCommand(input({ model: "openai/" }))).toThrow(/model must be/);
    expect(() => buildOpenCodeCommand(input({ config: { variant: 3 } }))).toThrow(/variant must be a string/);
  });
});
