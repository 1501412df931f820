import { describeFixtureVerdicts } from "paperclip-k8s-runtime/testing";
import { geminiAgent } from "./agent.ts";
import { geminiVerdictOracle } from "./verdict-oracle.ts";

describeFixtureVerdicts({ agent: geminiAgent, cli: "gemini", oracle: geminiVerdictOracle });
