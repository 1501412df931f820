/**
 * Runs one `execute()` of an adapter package in its own process, so a conformance test can kill -9
 * it mid-run like a crashed Paperclip server. Usage:
 *   node --conditions=source adapter-child.ts <adapter module URL> <RunContextInput as JSON>
 * Prints one JSON line per `onLog` chunk, then the result, and exits.
 */
import type { ServerAdapterModule } from "@paperclipai/adapter-utils";
import { recordedRun, type RunContextInput } from "./run-context.ts";

const [moduleUrl, inputJson] = process.argv.slice(2);
if (!moduleUrl || !inputJson) throw new Error("usage: adapter-child.ts <adapter module URL> <run input JSON>");
const adapterModule: { createServerAdapter(): ServerAdapterModule } = await import(moduleUrl);
const input: RunContextInput = JSON.parse(inputJson);
const run = recordedRun(input);
const print = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
const result = await adapterModule.createServerAdapter().execute({
  ...run.ctx,
  onLog: async (stream, chunk) => {
    print({ stream, chunk });
  },
});
print({ result });
// Like a server that is done: its shared watches and reaper would keep the process alive.
process.exit(0);
