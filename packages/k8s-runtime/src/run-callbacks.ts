import type { AdapterExecutionContext, AdapterExecutionResult } from "@paperclipai/adapter-utils";
import { createRedactor, type Redactor } from "./redaction.ts";

/** How much of a failing callback's error message is kept. */
const MAX_ERROR_CHARS = 300;

interface CallbackFailure {
  count: number;
  firstError: string;
}

/**
 * Paperclip's callbacks as the runtime calls them. A callback that throws or rejects (a database hiccup on
 * Paperclip's side) is contained: counted, said once in the server's log and once in the result, and the run goes
 * on to its result and cleanup. Everything handed to a callback, and the result, is redacted.
 */
export class RunCallbacks {
  /** The execution context with guarded, redacting callbacks: what every step of the run uses. */
  readonly ctx: AdapterExecutionContext;
  readonly #authToken: string | undefined;
  readonly #runId: string;
  readonly #failures = new Map<string, CallbackFailure>();
  readonly #rawOnLog: AdapterExecutionContext["onLog"];
  #redactor: Redactor;

  constructor(raw: AdapterExecutionContext) {
    this.#authToken = raw.authToken;
    this.#runId = raw.runId;
    this.#redactor = createRedactor({ PAPERCLIP_API_KEY: raw.authToken });
    const onLog = raw.onLog;
    this.#rawOnLog = onLog;
    const { onMeta, onEvent, onRuntimeProgress, onDispatch, onSpawn, onCancellationReady } = raw;
    this.ctx = {
      ...raw,
      onLog: (stream, chunk) => this.#contain("onLog", () => onLog(stream, this.#redactor.redact(chunk))),
      ...(onMeta && { onMeta: (meta) => this.#contain("onMeta", () => onMeta(this.#redactor.redactDeep(meta))) }),
      ...(onEvent && { onEvent: (event) => this.#contain("onEvent", () => onEvent(this.#redactor.redactDeep(event))) }),
      ...(onRuntimeProgress && {
        onRuntimeProgress: (update) => this.#contain("onRuntimeProgress", () => onRuntimeProgress(this.#redactor.redactDeep(update))),
      }),
      ...(onSpawn && { onSpawn: (meta) => this.#contain("onSpawn", () => onSpawn(meta)) }),
      ...(onCancellationReady && { onCancellationReady: () => this.#contain("onCancellationReady", onCancellationReady) }),
      ...(onDispatch && {
        onDispatch: () => {
          try {
            onDispatch();
          } catch (error) {
            this.#record("onDispatch", error);
          }
        },
      }),
    };
  }

  /** `ctx.onLog` for text the caller has redacted already (the agent's output, line by line): contained, not redacted again. */
  readonly logRedacted: AdapterExecutionContext["onLog"] = (stream, chunk) => this.#contain("onLog", () => this.#rawOnLog(stream, chunk));

  /** The redactor of the run's secrets as known so far. */
  get redactor(): Redactor {
    return this.#redactor;
  }

  /** From now on, `secrets` (`NAME → value`) are redacted too, besides the run JWT. */
  redactSecrets(secrets: Readonly<Record<string, string | undefined>>): void {
    this.#redactor = createRedactor({ PAPERCLIP_API_KEY: this.#authToken, ...secrets });
  }

  /** The result as Paperclip gets it: redacted, and saying which callbacks failed (in the run log too, if it can). */
  async finish(result: AdapterExecutionResult): Promise<AdapterExecutionResult> {
    if (this.#failures.size === 0) return this.#redactor.redactDeep(result);
    const failures = Object.fromEntries(this.#failures);
    const summary = [...this.#failures].map(([name, failure]) => `${name} failed ${failure.count}× (first: ${failure.firstError})`).join("; ");
    await this.ctx.onLog("stdout", `[paperclip] Paperclip's callbacks failed during this run: ${summary}. The run went on; what they were given is missing.\n`);
    return this.#redactor.redactDeep({ ...result, resultJson: { ...result.resultJson, callbackFailures: failures } });
  }

  async #contain(name: string, call: () => void | Promise<void>): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.#record(name, error);
    }
  }

  #record(name: string, error: unknown): void {
    const known = this.#failures.get(name);
    if (known) {
      known.count++;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    // One line of reasonable size: it goes into a log line and the result.
    const firstError = this.#redactor.redact(message.replace(/\s+/g, " ").trim()).slice(0, MAX_ERROR_CHARS);
    this.#failures.set(name, { count: 1, firstError });
    // Once per callback: the server's own log is where an operator looks when Paperclip's side misbehaves.
    console.warn(`[paperclip] run ${this.#runId}: ctx.${name} failed (${firstError}); the run goes on, further failures are counted.`);
  }
}
