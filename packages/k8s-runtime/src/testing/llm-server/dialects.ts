/**
 * The API dialects the scripted LLM speaks, by endpoint: a request to `<run base URL><endpoint>` is read and
 * answered by the first dialect whose `endpoint` matches. A new dialect is one wire module and one row here.
 */
import { anthropicMessages } from "./anthropic.ts";
import { GEMINI_MODEL_ENDPOINT, geminiGenerateContent } from "./gemini.ts";
import { openAiChatCompletions } from "./openai.ts";
import { openAiResponses } from "./openai-responses.ts";
import type { WireFormat } from "./wire.ts";

export interface LlmDialectRoute {
  /** Recorded as the request's `api`; a real-CLI spec names the dialect its CLI speaks. */
  dialect: string;
  /** The path after the run's base URL, query excluded. */
  endpoint: RegExp;
  wire: WireFormat;
}

export const LLM_DIALECTS = [
  { dialect: "anthropic", endpoint: /^\/v1\/messages$/, wire: anthropicMessages },
  { dialect: "openai", endpoint: /^\/v1\/chat\/completions$/, wire: openAiChatCompletions },
  { dialect: "openai-responses", endpoint: /^\/v1\/responses$/, wire: openAiResponses },
  { dialect: "gemini", endpoint: GEMINI_MODEL_ENDPOINT, wire: geminiGenerateContent },
] as const satisfies readonly LlmDialectRoute[];

export type LlmDialect = (typeof LLM_DIALECTS)[number]["dialect"];

/** The dialect serving `endpoint`, or null. */
export function dialectFor(endpoint: string): (typeof LLM_DIALECTS)[number] | null {
  return LLM_DIALECTS.find((route) => route.endpoint.test(endpoint)) ?? null;
}
