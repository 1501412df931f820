import { describeGeneratedReadme } from "paperclip-k8s-runtime/testing";
import { opencodeAgent } from "./agent.ts";

describeGeneratedReadme(new URL("../README.md", import.meta.url), { "agent-config": opencodeAgent.configurationDoc });
