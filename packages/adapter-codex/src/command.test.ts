// codex_local's argv builder; its package exports no subpath for it.
import { buildCodexExecArgs } from "../../../node_modules/@paperclipai/adapter-codex-local/dist/server/codex-args.js";
import { cliFixtureScenarios, readCliFixture, sampleCommandInput } from "paperclip-k8s-runtime/testing";
import { describe, expect, it } from "vitest";
import { buildCodexCommand } from "./command.ts";

const input = sampleCommandInput;

describe("buildCodexCommand", () => {
  it("runs fresh with the prompt on stdin and the bypass flag by default (the pod is the sandbox)", () => {
    const command = buildCodexCommand(input());
    expect(command.argv).toEqual(["codex", "exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "-"]);
    expect(command.env).toEqual({});
  });

  it("builds the argv every fixture was recorded with", () => {
    for (const scenario of cliFixtureScenarios("codex")) {
      const { argv } = readCliFixture("codex", scenario);
      const resumeAt = argv.indexOf("resume");
      const modelAt = argv.indexOf("--model");
      const ownFlags = modelAt + 2;
      const command = buildCodexCommand(
        input({
          model: argv[modelAt + 1] ?? null,
          extraArgs: argv.slice(ownFlags, resumeAt < 0 ? -1 : resumeAt),
          resumeSessionId: resumeAt < 0 ? null : (argv[resumeAt + 1] ?? null),
        }),
      );
      expect(command.argv, scenario).toEqual(argv);
    }
  });

  it("puts resume last, after every flag and extra argument: a trailing subcommand", () => {
    const command = buildCodexCommand(input({ resumeSessionId: "01a251eb-7f56-7100-9b64-cbaa4e73d0fa", model: "gpt-5.4", extraArgs: ["-c", "x=1"] }));
    expect(command.argv.slice(-6)).toEqual(["gpt-5.4", "-c", "x=1", "resume", "01a251eb-7f56-7100-9b64-cbaa4e73d0fa", "-"]);
    expect(command.notes).toContain("Resuming Codex thread 01a251eb-7f56-7100-9b64-cbaa4e73d0fa.");
  });

  it("matches Paperclip's codex_local argv for the same config (after the executable)", () => {
    const configs: Record<string, unknown>[] = [
      { dangerouslyBypassApprovalsAndSandbox: true, model: "gpt-5.6", modelReasoningEffort: "high", fastMode: true, search: true },
      { dangerouslyBypassApprovalsAndSandbox: false, model: "o3", fastMode: true, extraArgs: ["--profile", "ci"] },
      { dangerouslyBypassSandbox: true, reasoningEffort: "low", extraArgs: ["-c", "foo=1"] },
      { dangerouslyBypassApprovalsAndSandbox: false, model: "my-gateway-model", fastMode: true },
    ];
    for (const config of configs) {
      const extraArgs = Array.isArray(config.extraArgs) ? config.extraArgs.map(String) : [];
      const model = typeof config.model === "string" ? config.model : null;
      for (const resumeSessionId of [null, "01a251eb-7f56-7100-9b64-cbaa4e73d0fa"]) {
        const ours = buildCodexCommand(input({ config, model, extraArgs, resumeSessionId, dangerouslySkipPermissions: false })).argv;
        const theirs = buildCodexExecArgs(config, { resumeSessionId, skipGitRepoCheck: config.dangerouslyBypassApprovalsAndSandbox === false }).args;
        expect(ours.slice(1), JSON.stringify(config)).toEqual(theirs);
      }
    }
  });

  it("without the bypass: Codex's workspace-write sandbox with network, and no git trust prompt", () => {
    const argv = buildCodexCommand(input({ dangerouslySkipPermissions: false })).argv;
    expect(argv).toEqual([
      "codex",
      "exec",
      "--json",
      "-c",
      'sandbox_mode="workspace-write"',
      "-c",
      "sandbox_workspace_write.network_access=true",
      "--skip-git-repo-check",
      "-",
    ]);
    const chosen = buildCodexCommand(input({ dangerouslySkipPermissions: false, extraArgs: ["--sandbox", "read-only", "--skip-git-repo-check"] })).argv;
    expect(chosen).toEqual(["codex", "exec", "--json", "--sandbox", "read-only", "--skip-git-repo-check", "-"]);
  });

  it("ignores fast mode for a listed model that does not offer it, and says so", () => {
    const command = buildCodexCommand(input({ model: "o3", config: { fastMode: true } }));
    expect(command.argv).not.toContain('service_tier="fast"');
    expect(command.notes).toEqual(["Fast mode is not offered for model o3; ignored."]);
  });

  it("passes hostile values as data, and refuses a session id that would read as a flag", () => {
    const hostile = "$(touch /tmp/pwned); `id` 'q' \"d\"";
    expect(buildCodexCommand(input({ extraArgs: [hostile] })).argv.slice(-2)).toEqual([hostile, "-"]);
    expect(buildCodexCommand(input({ config: { modelReasoningEffort: 'x" ; y="z' } })).argv).toContain('model_reasoning_effort="x\\" ; y=\\"z"');
    expect(() => buildCodexCommand(input({ resumeSessionId: "--last" }))).toThrow(/"--last" is not a Codex thread id/);
  });

  it("rejects bad values with an error naming the key", () => {
    expect(() => buildCodexCommand(input({ config: { search: "yes" } }))).toThrow(/config\.search must be true or false/);
    expect(() => buildCodexCommand(input({ config: { modelReasoningEffort: 3 } }))).toThrow(/modelReasoningEffort must be a string/);
  });
});
