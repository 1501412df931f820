/**
 * The transcript parser Paperclip's UI loads for `gemini_k8s` runs (`exports["./ui-parser"]`, built into
 * `dist/ui-parser.cjs`): Paperclip's own gemini_local parser, bundled, so a run's transcript looks exactly like a
 * gemini_local run's.
 */
export { parseGeminiStdoutLine as parseStdoutLine } from "@paperclipai/adapter-gemini-local/ui";
