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
export { LLM_DIALECTS, type LlmDialect, type LlmDialectRoute } from "./llm-server/dialects.ts";
export type { ScriptedRun } from "./llm-server/server.ts";
export type { ScriptedShellTool } from "./llm-server/scenario.ts";
export {
  installedFile,
  REAL_CLI_SCENARIOS,
  type InstalledFileCandidate,
  type RealCliEnvInput,
  type RealCliImage,
  type RealCliImageFile,
  type RealCliScenario,
  type RealCliSpec,
} from "./real-cli-spec.ts";
export { buildRealCliImage } from "./real-cli-image.ts";
export {
  expectAgreesWithOracle,
  filesUnder,
  REAL_CLI_PROMPT,
  realRunFixture,
  startRealCliCluster,
  useRealCliCluster,
  type RealCliCluster,
  type RealCliRun,
  type RealCliRunInput,
} from "./real-cli.ts";
export { describeRealCliConformance, type RealCliConformanceOptions } from "./real-cli-conformance.ts";
