/**
 * The transcript parser an adapter package ships for Paperclip's UI (DESIGN §5): its
 * `src/ui-parser.ts` bundled into one CommonJS file, and that file loaded the way Paperclip's
 * sandboxed parser worker loads it. The package's build script (`scripts/build-ui-parser.ts`) and
 * its tests use the same bundler, so the tests check what ships.
 */
import path from "node:path";
import vm from "node:vm";
import { build } from "esbuild";

/** The parser's source inside an adapter package. */
export const UI_PARSER_ENTRY = "src/ui-parser.ts";
/** The built parser inside an adapter package; `exports["./ui-parser"]` points here. */
export const UI_PARSER_OUTFILE = "dist/ui-parser.cjs";
/** Its type declarations, `exports["./ui-parser"].types`. */
export const UI_PARSER_TYPES_OUTFILE = "dist/ui-parser.d.cts";

/**
 * Bundles `<packageDir>/src/ui-parser.ts` with everything it imports into one CommonJS text with
 * no `import` and no `require`: Paperclip's worker evaluates it as a function body. `platform:
 * "neutral"` makes an import of a Node built-in a build error instead of a `require` left behind.
 */
export async function bundleUiParser(packageDir: string): Promise<string> {
  const result = await build({
    absWorkingDir: packageDir,
    entryPoints: [path.join(packageDir, UI_PARSER_ENTRY)],
    bundle: true,
    format: "cjs",
    platform: "neutral",
    // Names the export for Node's CommonJS lexer, so `import { parseStdoutLine }` from ESM works too; never runs.
    footer: { js: "0 && (module.exports = { parseStdoutLine });" },
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) {
    throw new Error(`bundling ${UI_PARSER_ENTRY} in ${packageDir} gave ${result.outputFiles.length} files, expected one`);
  }
  return output.text;
}

export interface LoadedUiParser {
  /** One stdout line to transcript entries, copied out as the worker's `postMessage` copies them. */
  parseStdoutLine(line: string, ts: string): unknown;
}

function hasKeys(value: unknown): value is object {
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

/**
 * Evaluates parser text as Paperclip's worker does: the body of `new Function("exports", "module",
 * "self", "globalThis", '"use strict";\n{\n' + source + "\n}")`, called with `self` and
 * `globalThis` undefined; `module.exports` wins when it has keys. It runs in a fresh V8 context
 * holding only the language's built-ins (stricter than the worker: no fetch, console or timers),
 * so a parser that needs anything from its host fails here.
 */
export function loadUiParser(source: string): LoadedUiParser {
  const context = vm.createContext({});
  const factory = vm.compileFunction(`"use strict";\n{\n${source}\n}`, ["exports", "module", "self", "globalThis"], {
    parsingContext: context,
  });
  const exportsObject = {};
  const moduleObject: { exports: unknown } = { exports: exportsObject };
  factory(exportsObject, moduleObject, undefined, undefined);
  const resolved = hasKeys(moduleObject.exports) ? moduleObject.exports : exportsObject;
  const parse: unknown = Reflect.get(resolved, "parseStdoutLine");
  if (typeof parse !== "function") throw new Error("the UI parser exports no parseStdoutLine function");
  return {
    parseStdoutLine: (line, ts) => {
      const entries: unknown = Reflect.apply(parse, undefined, [line, ts]);
      return structuredClone(entries ?? []);
    },
  };
}
