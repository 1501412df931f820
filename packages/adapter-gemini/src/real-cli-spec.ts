/**
 * The real `gemini` (the devDependency @google/gemini-cli, a Node script) as the shared real-CLI tests run it, against
 * the scripted LLM's Gemini API. Test support only: not built, not published.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { installedFile, type RealCliSpec } from "paperclip-k8s-runtime/testing";

/** The model the scripted runs ask for (`auto` would add the CLI's routing requests). */
export const GEMINI_SCRIPTED_MODEL = "gemini-2.5-flash";

/**
 * What keeps the CLI offline and quick: the key's own auth type, no usage statistics, updates or IDE, one retry. The
 * image's `with-settings.mjs` writes them to the agent's `~/.gemini/settings.json` before the CLI starts.
 */
const OFFLINE_SETTINGS = {
  // A base URL alone selects the "gateway" auth type, which 0.61.0 refuses.
  security: { auth: { selectedType: "gemini-api-key" } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 2 },
  ide: { enabled: false },
};

export const geminiRealCliSpec: RealCliSpec = {
  cli: "gemini",
  image: () => {
    const node = installedFile("the pinned node", [{ package: "node", file: "bin/node" }]);
    const script = installedFile("the gemini CLI", [{ package: "@google/gemini-cli", bin: "gemini" }]);
    const packageDir = path.dirname(path.dirname(script));
    const settingsLayer = fileURLToPath(new URL("../real-cli-layer/", import.meta.url));
    return {
      layers: [path.dirname(node), packageDir, settingsLayer],
      entrypoint: [
        { layer: 0, path: "node" },
        { layer: 2, path: "with-settings.mjs" },
        { layer: 1, path: path.relative(packageDir, script) },
      ],
    };
  },
  dialect: "gemini",
  shellTool: { name: "run_shell_command", input: (command) => ({ command }) },
  env: ({ baseUrl, settings }) => ({
    GEMINI_API_KEY: "dummy",
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    SCRIPTED_GEMINI_SETTINGS: JSON.stringify({ ...OFFLINE_SETTINGS, ...settings }),
  }),
  config: { model: GEMINI_SCRIPTED_MODEL },
  transcript: { toolRan: /"type":"tool_result"/, turnEnded: /"type":"result"/ },
  sessions: {
    unknownId: "00000000-0000-4000-8000-000000000000",
    // `Invalid session identifier "…"` where the project has sessions, `No previous sessions found …` where it has none.
    unknownMessage: /^Gemini session is unavailable: Error resuming session: /,
  },
};
