/**
 * An adapter package's build step (run in the package directory): bundles its `src/ui-parser.ts`
 * into the file `exports["./ui-parser"]` names, the transcript parser Paperclip's UI loads, and
 * writes its type declarations next to it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bundleUiParser, UI_PARSER_OUTFILE, UI_PARSER_TYPES_OUTFILE } from "../packages/k8s-runtime/src/testing/ui-parser-bundle.ts";

/** The declarations of every adapter's parser: the one function Paperclip's UI worker calls. */
const UI_PARSER_DECLARATIONS = `import type { TranscriptEntry } from "@paperclipai/adapter-utils" with { "resolution-mode": "import" };

/** One line of the agent CLI's stdout, as Paperclip's run transcript entries. */
export declare function parseStdoutLine(line: string, ts: string): TranscriptEntry[];
`;

const packageDir = process.cwd();
const outfile = path.join(packageDir, UI_PARSER_OUTFILE);
const source = await bundleUiParser(packageDir);
mkdirSync(path.dirname(outfile), { recursive: true });
writeFileSync(outfile, source);
writeFileSync(path.join(packageDir, UI_PARSER_TYPES_OUTFILE), UI_PARSER_DECLARATIONS);
console.log(`${path.relative(process.cwd(), outfile)} written (${source.length} bytes) with its declarations`);
