/**
 * Writes `<scenario>.verdict.json` beside every recorded fixture of `fixtures/agent-cli-output/` (`npm run
 * fixtures:verdicts`): what Paperclip's own parsers and the recorded exit code say the run means. The conformance
 * suite compares `execute()` with these files; `--check` only reports files that are missing or out of date.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { claudeVerdictOracle } from "../packages/adapter-claude/src/verdict-oracle.ts";
import { codexVerdictOracle } from "../packages/adapter-codex/src/verdict-oracle.ts";
import { geminiVerdictOracle } from "../packages/adapter-gemini/src/verdict-oracle.ts";
import { openCodeVerdictOracle } from "../packages/adapter-opencode/src/verdict-oracle.ts";
import { cliFixtureScenarios, readCliFixture, type CliFixture } from "../packages/k8s-runtime/src/testing/agent-cli-fixtures.ts";
import { fixtureVerdictPath, type FixtureVerdict } from "../packages/k8s-runtime/src/testing/fixture-verdict.ts";

const ORACLES: Record<string, (fixture: CliFixture) => FixtureVerdict> = {
  claude: claudeVerdictOracle,
  codex: codexVerdictOracle,
  gemini: geminiVerdictOracle,
  opencode: openCodeVerdictOracle,
};

const checkOnly = process.argv.includes("--check");
const stale: string[] = [];
for (const [cli, oracle] of Object.entries(ORACLES)) {
  for (const scenario of cliFixtureScenarios(cli)) {
    const file = fixtureVerdictPath(cli, scenario);
    const text = `${JSON.stringify(oracle(readCliFixture(cli, scenario)), null, 2)}\n`;
    if (existsSync(file) && readFileSync(file, "utf8") === text) continue;
    stale.push(file);
    if (!checkOnly) writeFileSync(file, text);
  }
}
if (checkOnly && stale.length > 0) {
  console.error(`out of date (run npm run fixtures:verdicts):\n${stale.join("\n")}`);
  process.exitCode = 1;
} else {
  console.log(stale.length === 0 ? "every fixture verdict is up to date" : `wrote ${stale.length} verdicts`);
}
