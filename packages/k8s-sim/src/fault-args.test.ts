import { describe, expect, it } from "vitest";
import { CliUsageError, parseFaultArgs } from "./fault-args.ts";

const instruction = (...args: string[]) => parseFaultArgs(args).instruction;

describe("parseFaultArgs", () => {
  it("turns each action into the /_sim/faults instruction", () => {
    expect(parseFaultArgs(["--kubeconfig", "k.json", "fail-requests", "--verb", "create", "--resource", "jobs", "--status", "503", "--count", "2"])).toEqual({
      kubeconfig: "k.json",
      instruction: { failRequests: { verb: "create", resource: "jobs", response: { kind: "status", status: 503 }, count: 2 } },
    });
    expect(instruction("fail-requests", "--status", "429", "--retry-after", "3", "--fraction", "0.5")).toEqual({
      failRequests: { response: { kind: "status", status: 429, retryAfterSeconds: 3 }, fraction: 0.5 },
    });
    expect(instruction("fail-requests", "--drop", "--verb", "get")).toEqual({ failRequests: { verb: "get", response: { kind: "drop" } } });
    expect(instruction("latency", "--ms", "200")).toEqual({ latency: { ms: 200 } });
    expect(instruction("cut-watches", "--after-events", "3", "--resource", "pods")).toEqual({ cutWatches: { resource: "pods", afterEvents: 3 } });
    expect(instruction("gone-next-watch")).toEqual({ goneOnNextWatch: true });
    expect(instruction("gone-next-watch", "pods")).toEqual({ goneOnNextWatch: "pods" });
    expect(instruction("status-lag", "--ms", "500")).toEqual({ statusLagMs: 500 });
    expect(instruction("drop-open-watches")).toEqual({ dropOpenWatches: true });
    expect(instruction("hold-open-watches", "jobs")).toEqual({ holdOpenWatches: "jobs" });
    expect(instruction("release-open-watches")).toEqual({ releaseOpenWatches: true });
    expect(instruction("hold-all-watches", "pods")).toEqual({ holdAllWatches: "pods" });
    expect(instruction("expire-open-watches", "pods")).toEqual({ expireOpenWatches: "pods" });
    expect(instruction("oom-kill", "ns", "pod")).toEqual({ oomKill: { namespace: "ns", pod: "pod" } });
    expect(instruction("oom-kill", "ns", "pod", "sidecar")).toEqual({ oomKill: { namespace: "ns", pod: "pod", container: "sidecar" } });
    expect(instruction("evict", "ns", "pod")).toEqual({ evictPod: { namespace: "ns", pod: "pod" } });
    expect(instruction("remove-node", "n1")).toEqual({ removeNode: "n1" });
    expect(instruction("hold", "ns/pod")).toEqual({ holdInContainerCreating: "ns/pod" });
    expect(instruction("release", "ns/pod")).toEqual({ releaseContainerCreating: "ns/pod" });
    expect(parseFaultArgs(["clear"])).toEqual({ kubeconfig: undefined, instruction: { clear: true } });
  });

  it("names the problem with a command line it cannot act on", () => {
    const problem = (...args: string[]) => {
      try {
        parseFaultArgs(args);
      } catch (error) {
        if (error instanceof CliUsageError) return error.message;
        throw error;
      }
      throw new Error(`accepted: ${args.join(" ")}`);
    };
    expect(problem()).toBe("fault needs an action");
    expect(problem("toString")).toMatch(/^unknown fault action "toString"; known: fail-requests, latency, /);
    expect(problem("latency", "--ms", "5", "--status", "500")).toBe("latency does not take --status");
    expect(problem("latency", "--ms", "soon")).toBe('--ms must be a non-negative number, got "soon"');
    expect(problem("latency")).toBe("latency needs --ms <n>");
    expect(problem("fail-requests", "--verb", "get")).toBe("fail-requests needs exactly one of --status <code> and --drop");
    expect(problem("fail-requests", "--drop", "--status", "500")).toBe("fail-requests needs exactly one of --status <code> and --drop");
    expect(problem("fail-requests", "--drop", "--retry-after", "1")).toBe("--retry-after goes with --status, not --drop");
    expect(problem("cut-watches", "--count", "1")).toBe("cut-watches needs --after-events <n> or --after-ms <n>");
    expect(problem("evict", "ns")).toBe("evict takes 2 argument(s), got 1: ns");
    expect(problem("oom-kill", "a", "b", "c", "d")).toBe("oom-kill takes 2 to 3 argument(s), got 4: a b c d");
    expect(problem("clear", "--frobnicate")).toMatch(/Unknown option '--frobnicate'/);
  });
});
