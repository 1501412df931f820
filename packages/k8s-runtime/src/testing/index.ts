/** Test helpers for agent packages (`paperclip-k8s-runtime/testing`). */
export { agentCliFixturesDir, cliFixtureScenarios, parseStdout, readCliFixture, type CliFixture } from "./agent-cli-fixtures.ts";
