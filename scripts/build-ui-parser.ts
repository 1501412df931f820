/**
 * An adapter package's build step (run in the package directory): bundles its `src/ui-parser.ts`
 * into the file `exports["./ui-parser"]` names, the transcript parser Paperclip's UI loads.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bundleUiParser, UI_PARSER_OUTFILE } from "../packages/k8s-runtime/src/testing/ui-parser-bundle.ts";

const packageDir = process.cwd();
const outfile = path.join(packageDir, UI_PARSER_OUTFILE);
const source = await bundleUiParser(packageDir);
mkdirSync(path.dirname(outfile), { recursive: true });
writeFileSync(outfile, source);
console.log(`${path.relative(process.cwd(), outfile)} written (${source.length} bytes)`);
