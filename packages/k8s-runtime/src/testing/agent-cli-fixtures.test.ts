import { describe, expect, it } from "vitest";
import { cliFixtureScenarios, parseStdout, readCliFixture } from "./agent-cli-fixtures.ts";

describe("agent CLI fixtures", () => {
  it("lists each CLI's recorded scenarios", () => {
    expect(cliFixtureScenarios("claude")).toContain("happy");
    expect(cliFixtureScenarios("opencode")).toContain("resume-bogus-id");
  });

  it("reads a run with its argv, meta and the pod outcome of a clean exit", () => {
    const fixture = readCliFixture("opencode", "happy");
    expect(fixture.argv.slice(0, 2)).toEqual(["opencode", "run"]);
    expect(fixture.meta.scenario).toBe("happy");
    expect(fixture.outcome).toMatchObject({ exitCode: 0, signal: null, reason: "Completed" });
    expect(fixture.stdout.length).toBeGreaterThan(0);
  });

  it("reports a CLI killed by SIGKILL as a container exit 137", () => {
    const { outcome } = readCliFixture("claude", "killed-midstream");
    expect(outcome).toMatchObject({ exitCode: 137, signal: "SIGKILL", description: "container exited 137 (SIGKILL)" });
  });

  it("feeds stdout to a parser line by line", () => {
    const lines: string[] = [];
    const count = parseStdout({ push: (line) => lines.push(line), result: () => lines.length }, "a\nb\n");
    expect(lines).toEqual(["a", "b", ""]);
    expect(count).toBe(3);
  });

  it("fails clearly for a scenario that was not recorded", () => {
    expect(() => readCliFixture("claude", "no-such-scenario")).toThrow("no-such-scenario");
  });
});
