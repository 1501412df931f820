import { describeAdapterConformance } from "paperclip-k8s-runtime/testing";
import { codexAgent } from "./agent.ts";
import { createServerAdapter } from "./index.ts";

describeAdapterConformance({
  agent: codexAgent,
  adapter: createServerAdapter(),
  adapterModuleUrl: new URL("./index.ts", import.meta.url).href,
  transcripts: {
    cli: "codex",
    happy: "happy",
    resume: "resume",
    unknownSession: "resume-bogus-uuid",
    apiError: "err500",
    empty: "empty",
    killedMidstream: "killed-midstream",
  },
  truncatedErrorCode: "codex_truncated",
});
