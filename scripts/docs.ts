/** Rewrites the generated sections of packages/k8s-runtime/README.md from the code (`npm run docs`). */
import { readFileSync, writeFileSync } from "node:fs";
import { generatedReadmeSections } from "../packages/k8s-runtime/src/docs.ts";

const path = new URL("../packages/k8s-runtime/README.md", import.meta.url);
let readme = readFileSync(path, "utf8");
for (const [name, section] of Object.entries(generatedReadmeSections())) {
  const pattern = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
  if (!pattern.test(readme)) throw new Error(`README has no generated:${name} markers`);
  readme = readme.replace(pattern, (_, begin: string, end: string) => `${begin}\n${section.trim()}\n${end}`);
}
writeFileSync(path, readme);
console.log("packages/k8s-runtime/README.md updated");
