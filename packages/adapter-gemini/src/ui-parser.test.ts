import { parseGeminiStdoutLine } from "@paperclipai/adapter-gemini-local/ui";
import { describeUiParserParity } from "paperclip-k8s-runtime/testing";

describeUiParserParity({ packageDir: new URL("..", import.meta.url), cli: "gemini", oracle: parseGeminiStdoutLine });
