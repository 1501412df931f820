/**
 * The real `codex` (the devDependency @openai/codex) as the shared real-CLI tests run it, against the scripted LLM's
 * OpenAI Responses API. Test support only: not built, not published.
 */
import path from "node:path";
import { installedFile, type RealCliSpec } from "paperclip-k8s-runtime/testing";

/** The model the scripted provider serves. */
export const CODEX_SCRIPTED_MODEL = "scripted-model";

/**
 * `extraArgs` that point Codex at the scripted LLM: a custom `responses` provider (`OPENAI_BASE_URL` is not honoured
 * for this: Codex 0.171 then dials OpenAI's Responses WebSocket), one retry; and keep it offline: no plugin
 * marketplace sync (github.com, chatgpt.com), no analytics.
 */
export function scriptedProviderArgs(baseUrl: string): string[] {
  const provider = `{ name = "Scripted LLM", base_url = "${baseUrl}/v1", wire_api = "responses", env_key = "OPENAI_API_KEY", request_max_retries = 1, stream_max_retries = 1 }`;
  return ["-c", `model_providers.scripted=${provider}`, "-c", "model_provider=scripted", "-c", "analytics.enabled=false", "--disable", "plugins"];
}

export const codexRealCliSpec: RealCliSpec = {
  cli: "codex",
  image: () => {
    // @openai/codex installs the native binary through its optional dependency, the per-platform package.
    const triple = `${process.arch === "x64" ? "x86_64" : "aarch64"}-unknown-linux-musl`;
    const binary = installedFile("the codex CLI", [{ package: `@openai/codex-${process.platform}-${process.arch}`, file: `vendor/${triple}/bin/codex` }]);
    return { layers: [path.dirname(binary)], entrypoint: [{ layer: 0, path: path.basename(binary) }] };
  },
  dialect: "openai-responses",
  shellTool: { name: "exec_command", input: (command) => ({ cmd: command }) },
  env: () => ({ OPENAI_API_KEY: "dummy" }),
  config: ({ baseUrl }) => ({ model: CODEX_SCRIPTED_MODEL, extraArgs: scriptedProviderArgs(baseUrl) }),
  transcript: { toolRan: /"type":"command_execution"[^\n]*"status":"completed"/, turnEnded: /"type":"turn\.completed"/ },
  // A UUID: Codex refuses it before calling the model. A non-UUID id it silently replaces with a new thread (tested apart).
  sessions: { unknownId: "00000000-0000-4000-8000-000000000000", unknownMessage: /no rollout found for thread id 00000000-0000-4000-8000-000000000000/ },
};
