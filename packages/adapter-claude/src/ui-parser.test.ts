import { parseClaudeStdoutLine } from "@paperclipai/adapter-claude-local/ui";
import { describeUiParserParity } from "paperclip-k8s-runtime/testing";

describeUiParserParity({ packageDir: new URL("..", import.meta.url), cli: "claude", oracle: parseClaudeStdoutLine });
