import type { AdapterExecutionContext } from "@paperclipai/adapter-utils";
import type { OutputParser } from "./agent.ts";
import { dirname } from "node:path";
import type { FileCalls } from "./file-calls.ts";
import { OutputDirectoryWatch } from "./output-directory-watch.ts";
import { OutputTailer, TailBuffer } from "./output-tail.ts";
import type { Redactor } from "./redaction.ts";
import type { RunDirectory } from "./run-directory.ts";

/** After the agent exited, the output files must keep their size this long before they count as complete (network filesystems lag). */
export const OUTPUT_SETTLE_MS = 300;

/**
 * Step 9: the run directory's `stdout` and `stderr`, tailed from the start and sent to the run log
 * line by line; stdout lines also feed the agent's parser, stderr keeps a bounded tail for the result.
 * Every line is redacted before anything else sees it (the log, the parser, the stderr tail, which may all shorten
 * it later); a line cut at the tailer's cap has a secret cut in half there redacted too.
 */
export class RunOutput<TParsed> {
  readonly stderrTail = new TailBuffer({ maxLines: 40, maxBytes: 8 * 1024 });
  /** The output directory's events: the tails', and the completion wait's for the exit-code file. */
  readonly directoryWatch: OutputDirectoryWatch;
  readonly #stdout: OutputTailer;
  readonly #stderr: OutputTailer;

  constructor(input: {
    runDirectory: RunDirectory;
    /** Gets only redacted text (so it need not redact again: `RunCallbacks.logRedacted`). */
    onLog: AdapterExecutionContext["onLog"];
    parser: OutputParser<TParsed>;
    onActivity: () => void;
    redactor: Redactor;
    /** The file calls of the run directory's filesystem. */
    fileCalls: FileCalls;
  }) {
    const { runDirectory, onLog, parser, onActivity, redactor, fileCalls } = input;
    // stdout, stderr and the exit-code file share one directory, so one watch serves them all.
    const directoryWatch = new OutputDirectoryWatch(dirname(runDirectory.stdout), { localFilesystem: fileCalls.local });
    this.directoryWatch = directoryWatch;
    this.#stdout = new OutputTailer({
      path: runDirectory.stdout,
      directoryWatch,
      fileCalls,
      onLine: async (line, cutAt) => {
        onActivity();
        // The parser gets the line redacted too: what it keeps (summary, errors) may be shortened later, and a
        // secret cut in half there could no longer be found.
        const redacted = cutAt === undefined ? redactor.redact(line) : redactor.redactCut(line, cutAt);
        parser.push(redacted);
        await onLog("stdout", `${redacted}\n`);
      },
    });
    this.#stderr = new OutputTailer({
      path: runDirectory.stderr,
      directoryWatch,
      fileCalls,
      onLine: async (line, cutAt) => {
        onActivity();
        const redacted = cutAt === undefined ? redactor.redact(line) : redactor.redactCut(line, cutAt);
        this.stderrTail.push(redacted);
        await onLog("stderr", `${redacted}\n`);
      },
    });
    this.#stdout.start();
    this.#stderr.start();
  }

  get stdoutLines(): number {
    return this.#stdout.linesEmitted;
  }

  /**
   * Reads to the settled end of both files, including a last line without a newline. `agentExited`: the agent's
   * exit code was read, and the wrapper writes it only once both files are complete. When the directory's events
   * are trusted too (the pod writes through this node's kernel, so its writes are visible at once), the files
   * are complete now and no settle window is waited for; otherwise (network storage) their last writes may
   * show late.
   */
  async drain(agentExited: boolean): Promise<void> {
    const settleMs = agentExited && this.directoryWatch.trust.trusted ? 0 : OUTPUT_SETTLE_MS;
    try {
      await Promise.all([this.#stdout.drain({ settleMs }), this.#stderr.drain({ settleMs })]);
    } finally {
      this.directoryWatch.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.#stdout.stop(), this.#stderr.stop()]);
    this.directoryWatch.close();
  }
}
