import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { createK8sAdapter, pinInPaperclipPlugins } from "paperclip-k8s-runtime";
import { geminiAgent } from "./agent.ts";

export { geminiAgent } from "./agent.ts";

/**
 * Paperclip's entry point: the `gemini_k8s` adapter module. Installed by name, the package also records itself in
 * Paperclip's plugins directory, so installing another adapter there keeps this one.
 */
export function createServerAdapter(): ServerAdapterModule {
  pinInPaperclipPlugins(import.meta.url);
  return createK8sAdapter(geminiAgent);
}
