import {
  DEFAULT_PAPERCLIP_AGENT_PROMPT_TEMPLATE,
  DEFAULT_PAPERCLIP_CONVERSATION_PROMPT_TEMPLATE,
  isPaperclipRecoveryWakePayload,
  joinPromptSections,
  renderPaperclipWakePrompt,
  renderTemplate,
  selectPaperclipTaskMarkdown,
} from "@paperclipai/adapter-utils/server-utils";
import type { AdapterExecutionContext } from "@paperclipai/adapter-utils";

export interface RenderedPrompt {
  text: string;
  /** Character counts per section, reported in the invocation meta like the local adapters do. */
  metrics: Record<string, number>;
}

/** Instructions for an agent that takes them in front of its prompt (`instructionsDelivery: "prompt-prefix"`). */
export interface PromptInstructions {
  text: string;
  /** `instructionsFilePath`, named after the text so the model knows where its instructions came from. */
  source: string;
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * The prompt a run sends to its agent, assembled from the same sections Paperclip's local adapters
 * use (instructions for agents without an instructions flag, bootstrap on fresh sessions, wake, session
 * hand-off, task context, heartbeat template), so a Kubernetes run of an agent reads exactly like a local one.
 */
export function renderRunPrompt(
  ctx: Pick<AdapterExecutionContext, "runId" | "agent" | "config" | "context">,
  resumingSession: boolean,
  instructions: PromptInstructions | null = null,
): RenderedPrompt {
  const { runId, agent, config, context } = ctx;
  const conversationMode = context.conversationMode === true;
  const template =
    textOf(config.promptTemplate) ||
    (conversationMode ? DEFAULT_PAPERCLIP_CONVERSATION_PROMPT_TEMPLATE : DEFAULT_PAPERCLIP_AGENT_PROMPT_TEMPLATE);
  const templateData = {
    agentId: agent.id,
    companyId: agent.companyId,
    runId,
    company: { id: agent.companyId },
    agent,
    run: { id: runId, source: "on_demand" },
    context,
  };
  const bootstrapTemplate = textOf(config.bootstrapPromptTemplate);
  const bootstrap =
    !resumingSession && bootstrapTemplate.trim() ? renderTemplate(bootstrapTemplate, templateData).trim() : "";
  const taskContext = selectPaperclipTaskMarkdown(context, { resumedSession: resumingSession });
  const wake = renderPaperclipWakePrompt(context.paperclipWake, {
    resumedSession: resumingSession,
    conversationMode,
    suppressIssueDescription: taskContext.length > 0,
  });
  // A resumed session woken with news already holds the standing instructions: send only what is new.
  const wakeDeltaOnly = resumingSession && wake.length > 0;
  const heartbeat = wakeDeltaOnly || isPaperclipRecoveryWakePayload(context.paperclipWake) ? "" : renderTemplate(template, templateData);
  const prefix =
    instructions === null || wakeDeltaOnly || instructions.text.trim() === ""
      ? ""
      : `${instructions.text.trimEnd()}\n\n(The above are your agent instructions, from ${instructions.source}.)`;
  const handoff = textOf(context.paperclipSessionHandoffMarkdown).trim();
  const text = joinPromptSections([prefix, bootstrap, wake, handoff, taskContext, heartbeat]);
  return {
    text,
    metrics: {
      promptChars: text.length,
      instructionsChars: prefix.length,
      bootstrapPromptChars: bootstrap.length,
      wakePromptChars: wake.length,
      sessionHandoffChars: handoff.length,
      taskContextChars: taskContext.length,
      heartbeatPromptChars: heartbeat.length,
    },
  };
}
