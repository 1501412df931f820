/** Helpers every agent package uses: output-line narrowing, bounded text, config readers, session codec, retry hints, shared policies. */
export { readChoice, readFlag, readPositiveInteger, readText } from "./config-values.ts";
export { isJsonObject, numberField, objectField, parseJsonObjectLine, stringField, type JsonObject } from "./json-fields.ts";
export { firstReadableLine, readableLines, readableMessage, stripTerminalEscapes } from "./readable-message.ts";
export { retryNotBeforeFromText } from "./retry-hint.ts";
export {
  authFailureVerdict,
  finishedRunVerdict,
  isProviderAuthFailure,
  refusedToStart,
  unfinishedRunVerdict,
  type AgentCliTerms,
  type FinalReply,
} from "./run-policies.ts";
export { createSessionCodec, type SessionCodecOptions } from "./session-codec.ts";
export { TextTail } from "./text-tail.ts";
export { extraArgsField, promptTemplateFields } from "./common-fields.ts";
