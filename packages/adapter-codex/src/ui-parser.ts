/**
 * The transcript parser Paperclip's UI loads for `codex_k8s` runs (`exports["./ui-parser"]`, built into
 * `dist/ui-parser.cjs`): Paperclip's own codex_local line parser, so a run's transcript looks exactly like a
 * codex_local run's. Imported from its own module, not from `@paperclipai/adapter-codex-local/ui`: that entry also
 * re-exports the config builder, which pulls in all of adapter-utils (a 1.4 MB bundle that throws inside
 * Paperclip's parser worker). The package exports no narrower subpath, so the module is named by its file.
 */
export { parseCodexStdoutLine as parseStdoutLine } from "../../../node_modules/@paperclipai/adapter-codex-local/dist/ui/parse-stdout.js";
