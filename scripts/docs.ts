/** Rewrites the generated sections of the package READMEs, and the deployment kit's Role, from the code (`npm run docs`). */
import { readFileSync, writeFileSync } from "node:fs";
import { claudeAgent } from "paperclip-adapter-claude-k8s";
import { codexAgent } from "paperclip-adapter-codex-k8s";
import { geminiAgent } from "paperclip-adapter-gemini-k8s";
import { opencodeAgent } from "paperclip-adapter-opencode-k8s";
import { DEPLOY_KIT_ROLE_PATH, deployKitRoleYaml, generatedReadmeSections } from "../packages/k8s-runtime/src/docs.ts";
import { fillGeneratedSections } from "../packages/k8s-runtime/src/testing/generated-readme.ts";

const readmes: [string, Record<string, string>][] = [
  ["../packages/k8s-runtime/README.md", generatedReadmeSections()],
  ["../packages/adapter-claude/README.md", { "agent-config": claudeAgent.configurationDoc }],
  ["../packages/adapter-opencode/README.md", { "agent-config": opencodeAgent.configurationDoc }],
  ["../packages/adapter-codex/README.md", { "agent-config": codexAgent.configurationDoc }],
  ["../packages/adapter-gemini/README.md", { "agent-config": geminiAgent.configurationDoc }],
];
for (const [relative, sections] of readmes) {
  const path = new URL(relative, import.meta.url);
  writeFileSync(path, fillGeneratedSections(readFileSync(path, "utf8"), sections));
  console.log(`${relative.slice(3)} updated`);
}
writeFileSync(new URL(`../${DEPLOY_KIT_ROLE_PATH}`, import.meta.url), deployKitRoleYaml());
console.log(`${DEPLOY_KIT_ROLE_PATH} updated`);
