import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { isJsonObject } from "../agent-kit/json-fields.ts";
import { cliFixtureScenarios, readCliFixture } from "./agent-cli-fixtures.ts";
import { bundleUiParser, loadUiParser, UI_PARSER_OUTFILE, UI_PARSER_TYPES_OUTFILE, type LoadedUiParser } from "./ui-parser-bundle.ts";

export interface UiParserParityOptions {
  /** The adapter package's root directory (holds `package.json` and `src/ui-parser.ts`). */
  packageDir: URL;
  /** Which recorded CLI output to replay (`fixtures/agent-cli-output/<cli>/`). */
  cli: string;
  /** Paperclip's own parser for this CLI, the one its built-in adapter's transcripts use. */
  oracle: (line: string, ts: string) => unknown;
}

/** Lines no CLI prints on purpose, but a transcript may hold. */
const ODD_LINES = ["", "   ", "plain text", "{broken", "{}", "[1,2]", "null", '{"type":"no-such-type"}'];

/**
 * Checks the package's UI parser as Paperclip's UI gets it: bundled as the build bundles it,
 * evaluated as the worker evaluates it, and giving the same entries as Paperclip's own parser for
 * every line of every recorded transcript of the CLI.
 */
export function describeUiParserParity(options: UiParserParityOptions): void {
  const packageDir = fileURLToPath(options.packageDir);
  describe(`UI parser bundle (${options.cli})`, () => {
    let source = "";
    let parser: LoadedUiParser;
    beforeAll(async () => {
      source = await bundleUiParser(packageDir);
      parser = loadUiParser(source);
    });

    it("is plain script text: no import, export or require", () => {
      expect(source).toContain("parseStdoutLine");
      expect(source).not.toMatch(/\brequire\s*\(/);
      expect(source).not.toMatch(/^\s*import[\s{*"']/m);
      expect(source).not.toMatch(/\bimport\s*\(/);
      expect(source).not.toMatch(/^\s*export\s/m);
    });

    it("package.json offers it to Paperclip (exports ./ui-parser, parser contract 1.x)", () => {
      const manifest: unknown = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"));
      if (!isJsonObject(manifest) || !isJsonObject(manifest.exports) || !isJsonObject(manifest.paperclip)) {
        throw new Error("package.json lacks an exports or paperclip object");
      }
      expect(manifest.exports["./ui-parser"]).toEqual({ types: `./${UI_PARSER_TYPES_OUTFILE}`, default: `./${UI_PARSER_OUTFILE}` });
      expect(String(manifest.paperclip.adapterUiParser)).toMatch(/^1\./);
      expect(manifest.files).toContain("dist");
    });

    it.each(cliFixtureScenarios(options.cli))("%s: every line gives the entries Paperclip's own parser gives", (scenario) => {
      const lines = [...readCliFixture(options.cli, scenario).stdout.split("\n"), ...ODD_LINES];
      let entries = 0;
      lines.forEach((line, index) => {
        const ts = new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString();
        const expected = options.oracle(line, ts);
        expect(parser.parseStdoutLine(line, ts), `line ${index + 1}: ${line.slice(0, 120)}`).toStrictEqual(expected);
        if (Array.isArray(expected)) entries += expected.length;
      });
      expect(entries).toBeGreaterThan(0);
    });
  });
}
