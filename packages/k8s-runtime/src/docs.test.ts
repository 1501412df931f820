import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generatedReadmeSections } from "./docs.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("runtime README", () => {
  for (const [name, section] of Object.entries(generatedReadmeSections())) {
    it(`holds the current generated ${name} section (regenerate with npm run docs)`, () => {
      const begin = `<!-- generated:${name} -->`;
      const end = `<!-- /generated:${name} -->`;
      const start = readme.indexOf(begin);
      const stop = readme.indexOf(end);
      expect(start).toBeGreaterThanOrEqual(0);
      expect(readme.slice(start + begin.length, stop).trim()).toBe(section.trim());
    });
  }
});
