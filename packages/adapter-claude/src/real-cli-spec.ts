/**
 * The real `claude` (the devDependency @anthropic-ai/claude-code) as the shared real-CLI tests run it. Test support
 * only: not built, not published.
 */
import path from "node:path";
import { installedFile, type RealCliSpec } from "paperclip-k8s-runtime/testing";

export const claudeRealCliSpec: RealCliSpec = {
  cli: "claude",
  image: () => {
    // The per-platform package ships the binary; the main package's `bin` is it only after its postinstall ran.
    const binary = installedFile("the claude CLI", [
      { package: `@anthropic-ai/claude-code-${process.platform}-${process.arch}`, file: "claude" },
      { package: "@anthropic-ai/claude-code", bin: "claude" },
    ]);
    return { layers: [path.dirname(binary)], entrypoint: [{ layer: 0, path: path.basename(binary) }] };
  },
  dialect: "anthropic",
  shellTool: { name: "Bash", input: (command) => ({ command }) },
  // CLAUDE_CODE_MAX_RETRIES keeps its retries of a failing API to one.
  env: ({ baseUrl }) => ({ ANTHROPIC_BASE_URL: baseUrl, ANTHROPIC_API_KEY: "dummy", CLAUDE_CODE_MAX_RETRIES: "1" }),
  transcript: { toolRan: /"type":"tool_result"/, turnEnded: /"type":"result"/ },
  sessions: {
    unknownId: "00000000-0000-4000-8000-000000000000",
    unknownMessage: /No conversation found with session ID: 00000000-0000-4000-8000-000000000000/,
  },
};
