import { describeGeneratedReadme } from "paperclip-k8s-runtime/testing";
import { geminiAgent } from "./agent.ts";

describeGeneratedReadme(new URL("../README.md", import.meta.url), { "agent-config": geminiAgent.configurationDoc });
