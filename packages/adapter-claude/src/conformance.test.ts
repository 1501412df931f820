import { describeAdapterConformance } from "paperclip-k8s-runtime/testing";
import { claudeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

describeAdapterConformance({
  agent: claudeAgent,
  adapter: createServerAdapter(),
  adapterModuleUrl: new URL("./index.ts", import.meta.url).href,
  transcripts: {
    cli: "claude",
    happy: "happy",
    resume: "resume",
    unknownSession: "resume-bogus-uuid",
    apiError: "err500",
    empty: "empty",
    killedMidstream: "killed-midstream",
    turnLimit: "max-turns",
  },
  truncatedErrorCode: "claude_truncated",
});
