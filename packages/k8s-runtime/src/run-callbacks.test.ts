import { afterEach, describe, expect, it, vi } from "vitest";
import { redactionMarker } from "./redaction.ts";
import { RunCallbacks } from "./run-callbacks.ts";
import { recordedRun } from "./testing/run-context.ts";

const token = "run-jwt-0123456789abcdef";
const providerKey = "sk-ant-api03-abcdefghijklmnop";

function guarded() {
  const run = recordedRun({ adapterType: "minimal_k8s", config: {}, authToken: token });
  return { run, callbacks: new RunCallbacks(run.ctx) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("RunCallbacks", () => {
  it("redacts the run JWT from the start, and the run's other secrets once known", async () => {
    const { run, callbacks } = guarded();
    await callbacks.ctx.onLog("stdout", `a ${token} b ${providerKey}\n`);
    callbacks.redactSecrets({ ANTHROPIC_API_KEY: providerKey });
    await callbacks.ctx.onLog("stderr", `c ${token} d ${providerKey}\n`);
    await callbacks.ctx.onRuntimeProgress?.({ phase: "adapter_startup", message: `pulling with ${providerKey}` });
    expect(run.stdout).toEqual([`a ${redactionMarker("PAPERCLIP_API_KEY")} b ${providerKey}\n`]);
    expect(run.stderr).toEqual([`c ${redactionMarker("PAPERCLIP_API_KEY")} d ${redactionMarker("ANTHROPIC_API_KEY")}\n`]);
    expect(run.progress).toEqual([{ phase: "adapter_startup", message: `pulling with ${redactionMarker("ANTHROPIC_API_KEY")}` }]);
  });

  it("contains a failing callback, sync or async, says it once on the server and in the result", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { run } = guarded();
    const callbacks = new RunCallbacks({
      ...run.ctx,
      onDispatch: () => {
        throw new Error(`dispatch refused for ${token}`);
      },
      onMeta: () => Promise.reject(new Error("database connection lost")),
    });
    callbacks.ctx.onDispatch?.();
    for (let call = 0; call < 3; call++) {
      await expect(callbacks.ctx.onMeta?.({ adapterType: "minimal_k8s", command: "x" })).resolves.toBeUndefined();
    }
    expect(warn).toHaveBeenCalledTimes(2);
    const result = await callbacks.finish({ exitCode: 0, signal: null, timedOut: false, resultJson: { kept: true } });
    expect(result.resultJson).toEqual({
      kept: true,
      callbackFailures: {
        onDispatch: { count: 1, firstError: `dispatch refused for ${redactionMarker("PAPERCLIP_API_KEY")}` },
        onMeta: { count: 3, firstError: "database connection lost" },
      },
    });
    expect(run.stdout.join("")).toMatch(/callbacks failed during this run: onDispatch failed 1×.*onMeta failed 3×/);
  });

  it("leaves a result without callback failures as it was, but redacted", async () => {
    const { callbacks } = guarded();
    const result = await callbacks.finish({ exitCode: 1, signal: null, timedOut: false, errorMessage: `denied: ${token}` });
    expect(result).toEqual({ exitCode: 1, signal: null, timedOut: false, errorMessage: `denied: ${redactionMarker("PAPERCLIP_API_KEY")}` });
  });
});
