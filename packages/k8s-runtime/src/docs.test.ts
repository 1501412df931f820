import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeGeneratedReadme } from "./testing/generated-readme.ts";
import { DEPLOY_KIT_ROLE_PATH, deployKitRoleYaml, generatedReadmeSections } from "./docs.ts";

describeGeneratedReadme(new URL("../README.md", import.meta.url), generatedReadmeSections());

describe(`the deployment kit's Role (${DEPLOY_KIT_ROLE_PATH})`, () => {
  it("is the one generated from the runtime's permissions (regenerate with npm run docs)", () => {
    expect(readFileSync(new URL(`../../../${DEPLOY_KIT_ROLE_PATH}`, import.meta.url), "utf8")).toBe(deployKitRoleYaml());
  });
});
