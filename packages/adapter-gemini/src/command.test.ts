import { describe, expect, it } from "vitest";
import { cliFixtureScenarios, readCliFixture, sampleCommandInput as input } from "paperclip-k8s-runtime/testing";
import { buildGeminiCommand } from "./command.ts";

const tail = ["--approval-mode", "yolo", "--sandbox=none"];

describe("buildGeminiCommand", () => {
  it("runs fresh with stream-json, yolo and no sandbox; the prompt comes on stdin, never as an argument", () => {
    const command = buildGeminiCommand(input());
    expect(command.argv).toEqual(["gemini", "--output-format", "stream-json", ...tail]);
    expect(command.env).toEqual({ GEMINI_CLI_NO_RELAUNCH: "true", GEMINI_CLI_TRUST_WORKSPACE: "true", NO_BROWSER: "1" });
    expect(command.argv).not.toContain("--prompt");
  });

  it("builds the argv the fixtures were recorded with", () => {
    for (const scenario of cliFixtureScenarios("gemini")) {
      const { argv } = readCliFixture("gemini", scenario);
      const value = (flag: string) => (argv.includes(flag) ? (argv[argv.indexOf(flag) + 1] ?? null) : null);
      const command = buildGeminiCommand(input({ resumeSessionId: value("--resume"), model: value("--model") }));
      expect([...command.argv].sort(), scenario).toEqual([...argv].sort());
    }
  });

  it("resumes and selects a model; auto passes no --model, as gemini_local", () => {
    const command = buildGeminiCommand(input({ resumeSessionId: "abfdbaed-be54-499e-9497-af224010cb7e", model: "gemini-2.5-pro" }));
    expect(command.argv).toEqual(["gemini", "--output-format", "stream-json", "--resume", "abfdbaed-be54-499e-9497-af224010cb7e", "--model", "gemini-2.5-pro", ...tail]);
    expect(command.notes).toEqual(["Resuming Gemini session abfdbaed-be54-499e-9497-af224010cb7e."]);
    expect(buildGeminiCommand(input({ model: "auto" })).argv).not.toContain("--model");
  });

  it("sandbox: true asks for Gemini's own sandbox; a non-boolean is an error naming the key", () => {
    expect(buildGeminiCommand(input({ config: { sandbox: true } })).argv).toContain("--sandbox");
    expect(buildGeminiCommand(input({ config: { sandbox: true } })).argv).not.toContain("--sandbox=none");
    expect(() => buildGeminiCommand(input({ config: { sandbox: "yes" } }))).toThrow(/sandbox must be true or false, got "yes"/);
  });

  it("appends extra args last, as data", () => {
    const hostile = "$(touch /tmp/pwned); `id` 'q' \"d\"";
    expect(buildGeminiCommand(input({ extraArgs: ["--debug", hostile] })).argv.slice(-2)).toEqual(["--debug", hostile]);
  });
});
