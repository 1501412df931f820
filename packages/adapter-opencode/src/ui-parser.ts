/**
 * The transcript parser Paperclip's UI loads for `opencode_k8s` runs (`exports["./ui-parser"]`,
 * built into `dist/ui-parser.cjs`): Paperclip's own opencode_local parser, bundled, so a run's
 * transcript looks exactly like an opencode_local run's.
 */
export { parseOpenCodeStdoutLine as parseStdoutLine } from "@paperclipai/adapter-opencode-local/ui";
