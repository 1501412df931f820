/** Test helpers for agent packages (`paperclip-k8s-runtime/testing`). Needs vitest and paperclip-k8s-sim. */
export { agentCliFixturesDir, cliFixtureScenarios, parseStdout, readCliFixture, type CliFixture } from "./agent-cli-fixtures.ts";
export { fixtureVerdictPath, oracleVerdicts, readFixtureVerdict, replayFixture, verdictMismatches, type FixtureVerdict, type OracleReading } from "./fixture-verdict.ts";
export { describeFixtureVerdicts, type FixtureVerdictSuiteOptions } from "./fixture-verdict-suite.ts";
export { describeAdapterConformance, type AdapterConformanceOptions } from "./conformance.ts";
export type { ConformanceTranscripts, FakeAgentScenario } from "./conformance-context.ts";
export { recordedRun, type RecordedRun, type RunContextInput } from "./run-context.ts";
export { buildFakeAgentImage, startConformanceCluster, type AgentImage, type ConformanceCluster } from "./sim-harness.ts";
export { describeGeneratedReadme, fillGeneratedSections } from "./generated-readme.ts";
export { sampleCommandInput } from "./command-input.ts";
export { bundleUiParser, loadUiParser, UI_PARSER_ENTRY, UI_PARSER_OUTFILE, UI_PARSER_TYPES_OUTFILE, type LoadedUiParser } from "./ui-parser-bundle.ts";
export { describeUiParserParity, type UiParserParityOptions } from "./ui-parser-parity.ts";
export {
  startScriptedLlmServer,
  type LlmRequestRecord,
  type ScriptedLlmServer,
  type ScriptedLlmServerOptions,
} from "./llm-server/server.ts";
export { FINAL_TEXT, LLM_SCENARIOS, SCRIPTED_COMMAND, type LlmScenario } from "./llm-server/scenario.ts";
export {
  buildRealCliImage,
  expectAgreesWithOracle,
  filesUnder,
  OPENCODE_SCRIPTED_MODEL,
  realCliBinary,
  REAL_CLI_PROMPT,
  realCliEnv,
  startRealCliCluster,
  useRealCliCluster,
  type RealCli,
  type RealCliCluster,
  type RealCliRun,
  type RealCliRunEnv,
  type RealCliRunInput,
} from "./real-cli.ts";
