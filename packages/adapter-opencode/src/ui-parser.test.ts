import { parseOpenCodeStdoutLine } from "@paperclipai/adapter-opencode-local/ui";
import { describeUiParserParity } from "paperclip-k8s-runtime/testing";

describeUiParserParity({ packageDir: new URL("..", import.meta.url), cli: "opencode", oracle: parseOpenCodeStdoutLine });
