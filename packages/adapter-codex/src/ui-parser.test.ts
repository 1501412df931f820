import { parseCodexStdoutLine } from "@paperclipai/adapter-codex-local/ui";
import { bundleUiParser } from "paperclip-k8s-runtime/testing";
import { describeUiParserParity } from "paperclip-k8s-runtime/testing";
import { expect, it } from "vitest";

describeUiParserParity({ packageDir: new URL("..", import.meta.url), cli: "codex", oracle: parseCodexStdoutLine });

it("bundles only the line parser, not codex_local's whole UI entry", async () => {
  const source = await bundleUiParser(new URL("..", import.meta.url).pathname);
  expect(source.length).toBeLessThan(100 * 1024);
});
