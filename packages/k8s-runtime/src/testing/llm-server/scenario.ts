/**
 * What the scripted LLM answers, per scenario, independent of the wire format: every dialect reduces a
 * request to a `Conversation` and renders the `Reply` this module picks. Which tool the reply calls, and
 * with what arguments, is the run's `ScriptedShellTool`, given by the CLI's real-CLI spec.
 */
import type { JsonObject } from "../../agent-kit/json-fields.ts";

/** Scenarios the server plays; a run picks one through its base URL (`/s/<scenario>~<tag>`). */
export const LLM_SCENARIOS = [
  /** A shell tool call, then (once the tool result is back) final text. */
  "happy",
  /** Always a tool call (turn and step limits), except when the CLI says its step budget is spent. */
  "loop",
  /** A well-formed reply with no content and 0 output tokens. */
  "empty",
  "error500",
  /** Anthropic's "overloaded" status. */
  "error529",
  /** Rate limited, with `Retry-After`. */
  "error429",
  "error401",
  /** As `happy`, but the first final-text stream breaks after its first delta; later replies are whole. */
  "cut",
  /** As `happy`, with every stream event paced (`slowEventMs`). */
  "slow",
  /** As `happy`, but the final-text stream stops after its first delta and never ends (until the client goes or the server stops). */
  "stall",
] as const;

export type LlmScenario = (typeof LLM_SCENARIOS)[number];

export function isLlmScenario(value: string): value is LlmScenario {
  return (LLM_SCENARIOS as readonly string[]).includes(value);
}

/** A CLI's shell tool, as the scripted model calls it. */
export interface ScriptedShellTool {
  /** The tool's name as the CLI offers it to the model (`Bash`, `bash`, `shell`, `run_shell_command`). */
  name: string;
  /** The call's arguments that run `command`, a shell command line (e.g. `{ command }`, `{ command: ["bash", "-lc", command] }`). */
  input(command: string): JsonObject;
}

/** What a request says, as far as the script cares. */
export interface Conversation {
  /** Names of the tools the model may call now (none when the request forbids tool use, e.g. `tool_choice: "none"`). */
  toolNames: string[];
  /** The last message carries a tool's result (so the model's turn continues after a tool call). */
  endsWithToolResult: boolean;
  /** Text of the last message, for markers such as opencode's step-limit notice. */
  lastText: string;
}

export interface ApiErrorReply {
  kind: "error";
  status: number;
  /** Anthropic's error `type` (OpenAI-style bodies reuse it as `code`). */
  errorType: string;
  message: string;
  headers: Record<string, string>;
}

/** How a streamed reply is delivered. */
export type StreamPacing = "whole" | "paced" | "stall" | "cut";

export type Reply =
  | { kind: "text"; text: string; pacing: StreamPacing }
  | { kind: "tool"; preamble: string; toolName: string; input: JsonObject; pacing: StreamPacing }
  | { kind: "empty" }
  | ApiErrorReply;

/** The shell command the scripted tool call runs. */
export const SCRIPTED_COMMAND = "echo hello > out.txt";
export const TOOL_PREAMBLE = "I'll run the command.";
export const FINAL_TEXT = "Done. I ran the command and wrote hello to out.txt.";
/** opencode tells the model its step budget is spent with this text (and expects a text reply). */
const STEP_LIMIT_MARKER = "MAXIMUM STEPS REACHED";

/** The run's shell tool called with `SCRIPTED_COMMAND`, or null when this request does not offer it. */
function toolCall(conversation: Conversation, shellTool: ScriptedShellTool, pacing: StreamPacing): Reply | null {
  if (!conversation.toolNames.includes(shellTool.name)) return null;
  return { kind: "tool", preamble: TOOL_PREAMBLE, toolName: shellTool.name, input: shellTool.input(SCRIPTED_COMMAND), pacing };
}

/**
 * Errors carry `retry-after-ms` (honoured by opencode and the Anthropic SDK) so a CLI's retries
 * stay quick; 429 also carries the standard `Retry-After` (seconds).
 */
function apiError(scenario: "error500" | "error529" | "error429" | "error401", retryAfterMs: number): ApiErrorReply {
  const headers = { "retry-after-ms": String(retryAfterMs) };
  switch (scenario) {
    case "error500":
      return { kind: "error", status: 500, errorType: "api_error", message: "Internal server error", headers };
    case "error529":
      return { kind: "error", status: 529, errorType: "overloaded_error", message: "Overloaded", headers };
    case "error429":
      return {
        kind: "error",
        status: 429,
        errorType: "rate_limit_error",
        message: "Number of requests has exceeded your rate limit",
        headers: { ...headers, "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
      };
    case "error401":
      return { kind: "error", status: 401, errorType: "authentication_error", message: "invalid x-api-key", headers: {} };
  }
}

export interface ScriptOptions {
  retryAfterMs: number;
  /** The tool the run's CLI runs shell commands with. */
  shellTool: ScriptedShellTool;
  /** Final-text replies already sent for this run (the `cut` scenario breaks only the first). */
  finalTextStreamsSent: number;
}

/** The scripted reply to one request of `scenario`. */
export function decideReply(scenario: LlmScenario, conversation: Conversation, options: ScriptOptions): Reply {
  switch (scenario) {
    case "error500":
    case "error529":
    case "error429":
    case "error401":
      return apiError(scenario, options.retryAfterMs);
    case "empty":
      return { kind: "empty" };
    case "loop": {
      const call = conversation.lastText.includes(STEP_LIMIT_MARKER) ? null : toolCall(conversation, options.shellTool, "whole");
      return call ?? { kind: "text", text: FINAL_TEXT, pacing: "whole" };
    }
    case "happy":
    case "slow":
    case "stall":
    case "cut": {
      if (conversation.endsWithToolResult) {
        const pacing: StreamPacing =
          scenario === "slow" ? "paced" : scenario === "stall" ? "stall" : scenario === "cut" && options.finalTextStreamsSent === 0 ? "cut" : "whole";
        return { kind: "text", text: FINAL_TEXT, pacing };
      }
      // Requests without a shell tool (opencode's session title) get plain text, never a broken stream.
      return toolCall(conversation, options.shellTool, scenario === "slow" ? "paced" : "whole") ?? { kind: "text", text: FINAL_TEXT, pacing: "whole" };
    }
  }
}
