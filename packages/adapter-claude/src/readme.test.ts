import { describeGeneratedReadme } from "paperclip-k8s-runtime/testing";
import { claudeAgent } from "./agent.ts";

describeGeneratedReadme(new URL("../README.md", import.meta.url), { "agent-config": claudeAgent.configurationDoc });
