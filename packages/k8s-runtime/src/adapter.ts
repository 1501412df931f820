import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import type { AgentDefinition } from "./agent.ts";
import { runtimeConfigFields, runtimeConfigurationDoc } from "./config-doc.ts";
import { testEnvironment } from "./environment-test.ts";
import { executeRun } from "./execute.ts";

/**
 * Turns an agent definition into the Paperclip adapter module its package's `createServerAdapter()`
 * returns. Everything Kubernetes lives behind `execute`; the agent supplies only its CLI's meaning.
 */
export function createK8sAdapter<TParsed>(agent: AgentDefinition<TParsed>): ServerAdapterModule {
  return {
    type: agent.type,
    execute: (ctx) => executeRun(agent, ctx),
    testEnvironment: (ctx) => testEnvironment(agent, ctx),
    ...(agent.sessionCodec ? { sessionCodec: agent.sessionCodec } : {}),
    // Paperclip mints the run JWT only for adapters that ask; the pod gets it as PAPERCLIP_API_KEY.
    supportsLocalAgentJwt: true,
    supportsInstructionsBundle: true,
    models: agent.models,
    agentConfigurationDoc: `${agent.configurationDoc.trim()}\n\n${runtimeConfigurationDoc}`,
    getConfigSchema: () => ({ fields: [...agent.configFields, ...runtimeConfigFields] }),
  };
}
