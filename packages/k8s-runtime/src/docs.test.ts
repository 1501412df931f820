import { describeGeneratedReadme } from "./testing/generated-readme.ts";
import { generatedReadmeSections } from "./docs.ts";

describeGeneratedReadme(new URL("../README.md", import.meta.url), generatedReadmeSections());
