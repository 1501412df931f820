import { describeAdapterConformance } from "paperclip-k8s-runtime/testing";
import { geminiAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

describeAdapterConformance({
  agent: geminiAgent,
  adapter: createServerAdapter(),
  adapterModuleUrl: new URL("./index.ts", import.meta.url).href,
  transcripts: {
    cli: "gemini",
    happy: "happy",
    resume: "resume",
    unknownSession: "resume-bogus-id",
    apiError: "err500",
    empty: "empty",
    killedMidstream: "killed-midstream",
  },
  truncatedErrorCode: "gemini_truncated",
});
