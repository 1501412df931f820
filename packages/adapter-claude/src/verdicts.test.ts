import { describeFixtureVerdicts } from "paperclip-k8s-runtime/testing";
import { claudeAgent } from "./agent.ts";
import { claudeVerdictOracle } from "./verdict-oracle.ts";

describeFixtureVerdicts({ agent: claudeAgent, cli: "claude", oracle: claudeVerdictOracle });
