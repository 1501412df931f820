/**
 * The real `opencode` (the devDependency opencode-ai) as the shared real-CLI tests run it, against the scripted
 * LLM's OpenAI-compatible API. Test support only: not built, not published.
 */
import path from "node:path";
import { installedFile, type RealCliSpec } from "paperclip-k8s-runtime/testing";

/** The scripted runs' model: a provider `scripted` whose only model is `scripted-model`. */
export const OPENCODE_SCRIPTED_MODEL = "scripted/scripted-model";

export const openCodeRealCliSpec: RealCliSpec = {
  cli: "opencode",
  image: () => {
    // The per-platform package ships the binary; the main package's `bin` is it only after its postinstall ran.
    const binary = installedFile("the opencode CLI", [
      { package: `opencode-${process.platform}-${process.arch}`, file: "bin/opencode" },
      { package: "opencode-ai", bin: "opencode" },
    ]);
    return { layers: [path.dirname(binary)], entrypoint: [{ layer: 0, path: path.basename(binary) }] };
  },
  dialect: "openai",
  // OpenCode's bash tool requires a description.
  shellTool: { name: "bash", input: (command) => ({ command, description: "Write hello to out.txt" }) },
  // OpenCode has no retry setting but honours the server's `retry-after-ms`, which keeps its five retries quick.
  // `settings` is OpenCode config merged over the generated one (e.g. `{ agent: { build: { steps: 2 } } }`).
  env: ({ baseUrl, settings }) => ({
    OPENCODE_CONFIG_CONTENT: JSON.stringify({
      $schema: "https://opencode.ai/config.json",
      autoupdate: false,
      share: "disabled",
      provider: {
        scripted: {
          npm: "@ai-sdk/openai-compatible",
          name: "Scripted LLM",
          options: { baseURL: `${baseUrl}/v1`, apiKey: "dummy" },
          models: { "scripted-model": { name: "Scripted model", tool_call: true, limit: { context: 128000, output: 8192 } } },
        },
      },
      ...settings,
    }),
    OPENCODE_DISABLE_MODELS_FETCH: "1",
  }),
  config: { model: OPENCODE_SCRIPTED_MODEL },
  transcript: { toolRan: /"tool":"bash","callID":"[^"]*","state":\{"status":"completed"/, turnEnded: /"reason":"stop"/ },
  sessions: { unknownId: "ses_00000000000000000000000000", unknownMessage: /Session not found/ },
};
