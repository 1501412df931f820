import { describe, expect, it } from "vitest";
import { buildClaudeCommand } from "./command.ts";
import { cliFixtureScenarios, readCliFixture, sampleCommandInput } from "paperclip-k8s-runtime/testing";

const input = sampleCommandInput;
const runDir = input().runDir;

const base = ["claude", "-p", "--output-format", "stream-json", "--verbose"];

describe("buildClaudeCommand", () => {
  it("runs a fresh headless session that skips permission prompts by default", () => {
    const command = buildClaudeCommand(input());
    expect(command.argv).toEqual([...base, "--dangerously-skip-permissions"]);
    expect(command.env).toEqual({
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      IS_SANDBOX: "1",
    });
    expect(command.runFiles).toBeUndefined();
  });

  it("keeps permission prompts, and IS_SANDBOX unset, when skipping is turned off", () => {
    const command = buildClaudeCommand(input({ dangerouslySkipPermissions: false }));
    expect(command.argv).toEqual(base);
    expect(command.env.IS_SANDBOX).toBeUndefined();
  });

  it("builds the argv the fixtures were recorded with", () => {
    for (const scenario of cliFixtureScenarios("claude")) {
      const { argv } = readCliFixture("claude", scenario);
      const value = (flag: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? null) : null);
      const maxTurns = value("--max-turns");
      const command = buildClaudeCommand(
        input({
          resumeSessionId: value("--resume"),
          model: value("--model"),
          dangerouslySkipPermissions: argv.includes("--dangerously-skip-permissions"),
          config: maxTurns === null ? {} : { maxTurnsPerRun: Number(maxTurns) },
        }),
      );
      // Same flags and values; the order of flags does not matter to the CLI.
      expect([...command.argv].sort(), scenario).toEqual([...argv].sort());
    }
  });

  it("resumes, selects model, effort and turn limit", () => {
    const command = buildClaudeCommand(
      input({
        resumeSessionId: "a89c43b3-6a48-41aa-b7ac-b2cf3169b755",
        model: "claude-sonnet-4-5",
        dangerouslySkipPermissions: false,
        config: { effort: "XHigh", maxTurnsPerRun: 12 },
      }),
    );
    expect(command.argv).toEqual([
      ...base,
      "--resume",
      "a89c43b3-6a48-41aa-b7ac-b2cf3169b755",
      "--model",
      "claude-sonnet-4-5",
      "--effort",
      "xhigh",
      "--max-turns",
      "12",
    ]);
    expect(command.notes).toEqual(["Resuming Claude session a89c43b3-6a48-41aa-b7ac-b2cf3169b755."]);
  });

  it("treats a turn limit of 0 as no limit and accepts numeric strings", () => {
    expect(buildClaudeCommand(input({ config: { maxTurnsPerRun: 0 } })).argv).not.toContain("--max-turns");
    expect(buildClaudeCommand(input({ config: { maxTurnsPerRun: "7" } })).argv).toContain("7");
  });

  it("appends instructions on fresh sessions only", () => {
    const instructionsFile = `${runDir}/instructions.md`;
    const fresh = buildClaudeCommand(input({ instructionsFile }));
    expect(fresh.argv.slice(-2)).toEqual(["--append-system-prompt-file", instructionsFile]);
    const resumed = buildClaudeCommand(input({ instructionsFile, resumeSessionId: "s-1" }));
    expect(resumed.argv).not.toContain("--append-system-prompt-file");
    expect(resumed.argv).not.toContain(instructionsFile);
  });

  it("adds the skills directory and appends extra args last, as data", () => {
    const skillsDir = `${runDir}/skills`;
    const hostile = "$(rm -rf /); echo 'x' \"y\" `z`";
    const listed = buildClaudeCommand(input({ skillsDir, extraArgs: ["--chrome", hostile] }));
    expect(listed.argv.slice(-4)).toEqual(["--add-dir", skillsDir, "--chrome", hostile]);
  });

  it("rejects bad values with an error naming the key", () => {
    expect(() => buildClaudeCommand(input({ config: { effort: "extreme" } }))).toThrow(/effort must be one of low, medium, high, xhigh, max/);
    expect(() => buildClaudeCommand(input({ config: { maxTurnsPerRun: -3 } }))).toThrow(/maxTurnsPerRun must be a positive integer/);
    expect(() => buildClaudeCommand(input({ config: { maxTurnsPerRun: 2.5 } }))).toThrow(/maxTurnsPerRun/);
  });
});
