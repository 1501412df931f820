import { describe, expect, it } from "vitest";
import type { AgentDefinition } from "../agent.ts";
import { cliFixtureScenarios, readCliFixture, type CliFixture } from "./agent-cli-fixtures.ts";
import { readFixtureVerdict, replayFixture, verdictMismatches, type FixtureVerdict } from "./fixture-verdict.ts";

export interface FixtureVerdictSuiteOptions<TParsed> {
  agent: AgentDefinition<TParsed>;
  /** The fixture directory of the CLI, e.g. `claude`. */
  cli: string;
  /** The outside authority that wrote the stored verdicts (the agent's `verdict-oracle.ts`). */
  oracle: (fixture: CliFixture) => FixtureVerdict;
}

/**
 * Without a cluster: every stored verdict is what the authority says today, the agent's result on every fixture
 * agrees with it, and an agent whose `interpret` ignores failures and empty replies is caught by the same
 * comparison the conformance suite applies to `execute()`.
 */
export function describeFixtureVerdicts<TParsed>({ agent, cli, oracle }: FixtureVerdictSuiteOptions<TParsed>): void {
  const scenarios = cliFixtureScenarios(cli);
  describe(`${agent.type} on the recorded fixtures, judged by their verdicts`, () => {
    it.each(scenarios)("%s: the stored verdict is the authority's (npm run fixtures:verdicts)", (scenario) => {
      expect(readFixtureVerdict(cli, scenario)).toEqual(oracle(readCliFixture(cli, scenario)));
    });

    it.each(scenarios)("%s: the result agrees with the verdict", (scenario) => {
      expect(verdictMismatches(replayFixture(agent, readCliFixture(cli, scenario)), readFixtureVerdict(cli, scenario))).toEqual([]);
    });

    it("an interpret that ignores failures and empty replies disagrees with every failing fixture's verdict", () => {
      const careless: AgentDefinition<TParsed> = {
        ...agent,
        interpret: (parsed, outcome, facts) => ({
          ...agent.interpret(parsed, outcome, facts),
          errorCode: null,
          errorMessage: null,
          errorFamily: null,
          clearSession: false,
        }),
      };
      const failing = scenarios.filter((scenario) => !readFixtureVerdict(cli, scenario).succeeded);
      expect(failing.length).toBeGreaterThan(0);
      for (const scenario of failing) {
        const mismatches = verdictMismatches(replayFixture(careless, readCliFixture(cli, scenario)), readFixtureVerdict(cli, scenario));
        expect(mismatches, scenario).not.toEqual([]);
      }
      // The empty reply exits 0: only the verdict, not the exit code, says the run failed.
      const empty = verdictMismatches(replayFixture(careless, readCliFixture(cli, "empty")), readFixtureVerdict(cli, "empty"));
      expect(empty).toContain("succeeded: got true, the verdict says false");
    });
  });
}
