import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { createK8sAdapter } from "paperclip-k8s-runtime";
import { claudeAgent } from "./agent.ts";

export { claudeAgent } from "./agent.ts";

/** Paperclip's entry point: the `claude_k8s` adapter module. */
export function createServerAdapter(): ServerAdapterModule {
  return createK8sAdapter(claudeAgent);
}
