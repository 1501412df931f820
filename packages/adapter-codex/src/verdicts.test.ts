import { describeFixtureVerdicts } from "paperclip-k8s-runtime/testing";
import { codexAgent } from "./agent.ts";
import { codexVerdictOracle } from "./verdict-oracle.ts";

describeFixtureVerdicts({ agent: codexAgent, cli: "codex", oracle: codexVerdictOracle });
