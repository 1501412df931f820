import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** Replaces each `<!-- generated:NAME -->…<!-- /generated:NAME -->` block of `text` with the section. */
export function fillGeneratedSections(text: string, sections: Record<string, string>): string {
  let filled = text;
  for (const [name, section] of Object.entries(sections)) {
    const pattern = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!pattern.test(filled)) throw new Error(`no generated:${name} markers`);
    filled = filled.replace(pattern, (_, begin: string, end: string) => `${begin}\n${section.trim()}\n${end}`);
  }
  return filled;
}

/** Fails when a README's generated sections differ from what the code generates now (`npm run docs` fixes it). */
export function describeGeneratedReadme(readme: URL, sections: Record<string, string>): void {
  describe(`generated sections of ${readme.pathname.split("/").slice(-2).join("/")}`, () => {
    const text = readFileSync(readme, "utf8");
    it("match the code (regenerate with npm run docs)", () => {
      expect(text).toBe(fillGeneratedSections(text, sections));
    });
  });
}
