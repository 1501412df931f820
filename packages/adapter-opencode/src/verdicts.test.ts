import { describeFixtureVerdicts } from "paperclip-k8s-runtime/testing";
import { opencodeAgent } from "./agent.ts";
import { openCodeVerdictOracle } from "./verdict-oracle.ts";

describeFixtureVerdicts({ agent: opencodeAgent, cli: "opencode", oracle: openCodeVerdictOracle });
