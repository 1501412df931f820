import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import type { RunContextInput } from "./run-context.ts";

/** One `execute()` in its own OS process (`adapter-child.ts`): a second Paperclip process, or one to kill -9. */
export interface AdapterProcess {
  child: ChildProcess;
  /** Everything the child printed so far: one JSON line per `onLog` chunk, then the result. */
  output(): string;
  /** The run's result; rejects when the child exits without one (killed, crashed). */
  result: Promise<AdapterExecutionResult>;
}

export function startAdapterProcess(adapterModuleUrl: string, input: RunContextInput): AdapterProcess {
  const child = spawn(
    process.execPath,
    ["--conditions=source", fileURLToPath(new URL("./adapter-child.ts", import.meta.url)), adapterModuleUrl, JSON.stringify(input)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const result = new Promise<AdapterExecutionResult>((resolve, reject) => {
    child.once("exit", (code, signal) => {
      const last = output.trim().split("\n").at(-1) ?? "";
      const parsed = last.startsWith('{"result"') ? (JSON.parse(last) as { result: AdapterExecutionResult }) : null;
      if (parsed) resolve(parsed.result);
      else reject(new Error(`the adapter process ended without a result (exit ${code ?? signal})`));
    });
  });
  // A caller that kills the child on purpose need not await the rejection.
  result.catch(() => {});
  return { child, output: () => output, result };
}
