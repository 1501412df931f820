import { describeAdapterConformance } from "paperclip-k8s-runtime/testing";
import { opencodeAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

describeAdapterConformance({
  agent: opencodeAgent,
  adapter: createServerAdapter(),
  adapterModuleUrl: new URL("./index.ts", import.meta.url).href,
  transcripts: {
    cli: "opencode",
    happy: "happy",
    resume: "resume",
    unknownSession: "resume-bogus-id",
    apiError: "err500",
    empty: "empty",
    killedMidstream: "killed-midstream",
  },
  truncatedErrorCode: "opencode_truncated",
});
