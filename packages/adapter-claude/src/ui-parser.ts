/**
 * The transcript parser Paperclip's UI loads for `claude_k8s` runs (`exports["./ui-parser"]`, built
 * into `dist/ui-parser.cjs`): Paperclip's own claude_local parser, bundled, so a run's transcript
 * looks exactly like a claude_local run's.
 */
export { parseClaudeStdoutLine as parseStdoutLine } from "@paperclipai/adapter-claude-local/ui";
