import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { createK8sAdapter } from "paperclip-k8s-runtime";
import { opencodeAgent } from "./agent.ts";

export { opencodeAgent } from "./agent.ts";

/** Paperclip's entry point: the `opencode_k8s` adapter module. */
export function createServerAdapter(): ServerAdapterModule {
  return createK8sAdapter(opencodeAgent);
}
