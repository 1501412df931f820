import { randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { AdapterExecutionContext, AdapterExecutionResult, ServerAdapterModule } from "@paperclipai/adapter-utils";
import { afterAll, afterEach, beforeAll, expect, vi } from "vitest";
import type { AgentDefinition } from "../agent.ts";
import { ANNOTATION_AGENT_ID, LABEL_AGENT_ID, sanitizeLabelValue } from "../labels.ts";
import { runReapersOnce, stopReapers } from "../reaper.ts";
import { stopSharedWatches } from "../shared-watch.ts";
import { runDirectoryFor, type RunIds } from "../run-directory.ts";
import { readCliFixture, type CliFixture } from "./agent-cli-fixtures.ts";
import { readFixtureVerdict, type FixtureVerdict } from "./fixture-verdict.ts";
import { recordedRun, type RecordedRun, type RunContextInput } from "./run-context.ts";
import type { ConformanceCluster } from "./sim-harness.ts";

/** Recorded transcripts (`shared/fixtures/agent-cli-output/<cli>/<scenario>`) that play each conformance role. */
export interface ConformanceTranscripts {
  /** The fixture directory of this CLI, e.g. `claude`. */
  cli: string;
  happy: string;
  resume: string;
  unknownSession: string;
  apiError: string;
  empty: string;
  killedMidstream: string;
  /** Only for CLIs that report a turn/step limit in their output. */
  turnLimit?: string;
}

export interface ConformanceOptions<TParsed> {
  agent: AgentDefinition<TParsed>;
  adapter: ServerAdapterModule;
  transcripts: ConformanceTranscripts;
  /** The error code for output that ended without the CLI's terminal event, e.g. `claude_truncated`. */
  truncatedErrorCode: string;
}

/** What the fake agent does in its pod; see `fake-agent.mjs`. */
export interface FakeAgentScenario {
  transcript?: string;
  lineDelayMs?: number;
  stopAfterLines?: number;
  /** After this many transcript lines, waits until `releaseFile` (relative to its working directory) exists. */
  holdAfterLines?: number;
  releaseFile?: string;
  chunks?: {
    text?: string;
    base64?: string;
    /** Writes the value of this env var of the agent (its `from`–`to` slice), instead of `text`. */
    env?: string;
    from?: number;
    to?: number;
    delayMs?: number;
    stream?: "stdout" | "stderr";
  }[];
  bigLineBytes?: number;
  sleepMs?: number;
  killSelf?: "SIGKILL" | "SIGTERM";
  exitCode?: number;
  recordInvocationTo?: string;
  /** Make the command wrapper's exit-code file impossible to write: the exit code then comes from the container's state. */
  blockExitCodeFile?: boolean;
  /** File operations of a hostile agent, after its chunks; see `fake-agent.mjs`. */
  fileActions?: FileAction[];
  fileActionsResultTo?: string;
}

export interface FileAction {
  op: "read" | "list" | "append" | "write" | "symlink" | "mkfifo";
  path: string;
  target?: string;
  data?: string;
}

/** What the pod got for one `FileAction`: `ok`, or the errno code. */
export interface FileActionOutcome {
  op: FileAction["op"];
  path: string;
  ok: boolean;
  error?: string;
  data?: string;
}

export interface ScenarioRun {
  result: AdapterExecutionResult;
  run: RecordedRun;
  agentId: string;
}

export interface RunInput extends Partial<Omit<RunContextInput, "config" | "adapterType">> {
  scenario: FakeAgentScenario;
  config?: Record<string, unknown>;
  /** Extra text appended to the prompt (e.g. to make it large). */
  promptPadding?: string;
  /** Runs alongside `execute()`; the run is awaited after it. */
  during?: (run: RecordedRun, agentId: string) => Promise<void>;
  /** The context `execute()` gets instead of the recorded one (e.g. with failing callbacks). */
  adaptContext?: (ctx: AdapterExecutionContext) => AdapterExecutionContext;
}

/** The prompt template that makes the fake agent play `scenario`. */
export function scenarioPrompt(scenario: FakeAgentScenario, padding = ""): string {
  return `FAKE_AGENT_SCENARIO ${JSON.stringify(scenario)}\n${padding}`;
}

export class ConformanceContext<TParsed> {
  readonly options: ConformanceOptions<TParsed>;
  readonly cluster: ConformanceCluster;
  /** Runs of the current scenario, checked for leftovers after it (`expectNothingLeftBehind`). */
  private readonly runsToCheck: RunIds[] = [];

  constructor(options: ConformanceOptions<TParsed>, cluster: ConformanceCluster) {
    this.options = options;
    this.cluster = cluster;
  }

  get agent(): AgentDefinition<TParsed> {
    return this.options.agent;
  }

  /** `<cli>/<scenario>`, as the fake agent names transcripts. */
  transcript(scenario: string): string {
    return `${this.options.transcripts.cli}/${scenario}`;
  }

  fixture(scenario: string): CliFixture {
    return readCliFixture(this.options.transcripts.cli, scenario);
  }

  /**
   * What an outside authority (Paperclip's own parser, the recorded exit code) says a recorded transcript means,
   * stored beside it: what `execute()` must agree with. Never the agent's own `interpret()`.
   */
  expectedVerdict(scenario: string): FixtureVerdict {
    return readFixtureVerdict(this.options.transcripts.cli, scenario);
  }

  async run(input: RunInput): Promise<ScenarioRun> {
    const agentId = input.agentId ?? randomUUID();
    const workspaceCwd = input.workspaceCwd ?? (await this.cluster.workspace(agentId));
    const run = recordedRun({
      ...input,
      agentId,
      adapterType: this.agent.type,
      workspaceCwd,
      taskId: input.taskId === undefined ? `task-${agentId}` : input.taskId,
      config: this.cluster.config({ promptTemplate: scenarioPrompt(input.scenario, input.promptPadding), ...input.config }),
    });
    this.track({ companyId: run.ctx.agent.companyId, agentId, runId: run.ctx.runId });
    const execution = this.options.adapter.execute(input.adaptContext ? input.adaptContext(run.ctx) : run.ctx);
    if (input.during) await input.during(run, agentId);
    return { result: await execution, run, agentId };
  }

  /** Adds a run made outside `run()` (e.g. in a child process) to the leftovers check after the scenario. */
  track(ids: RunIds): void {
    this.runsToCheck.push(ids);
  }

  /**
   * After each scenario: no Job, pod or Secret of its agents is left in the namespace, and no run directory of
   * its runs on the volume (scenarios with `retainJobs` or retained files clean up themselves). Waits for garbage
   * collection and pod termination; then forgets the runs.
   */
  async expectNothingLeftBehind(): Promise<void> {
    const runs = this.runsToCheck.splice(0);
    const agents = [...new Set(runs.map((run) => run.agentId))];
    const directories = runs.map((run) => runDirectoryFor({ instanceRoot: this.cluster.instanceRoot, ...run }).dir);
    const existing = async () => {
      const found = await Promise.all(directories.map(async (dir) => ((await stat(dir).catch(() => null)) ? [dir] : [])));
      return found.flat();
    };
    await vi.waitFor(
      async () => {
        // The reaper is part of the cleanup: files a run had to leave while its pod was still running go in its sweep.
        await runReapersOnce();
        expect(agents.flatMap((agentId) => this.leftovers(agentId))).toEqual([]);
        expect(await existing()).toEqual([]);
      },
      { timeout: 30_000, interval: 200 },
    );
  }

  /** A file the fake agent can write and the test can read: in the agent's workspace, the part of the shared volume its pod mounts. */
  async recordingPath(agentId: string, name: string): Promise<string> {
    return path.join(await this.cluster.workspace(agentId), `.recording-${name}`);
  }

  async readRecording(file: string): Promise<{ argv: string[]; env: Record<string, string>; cwd: string; promptBytes: number }> {
    return JSON.parse(await readFile(file, "utf8"));
  }

  /** Jobs, pods and Secrets of one agent still in the cluster. */
  leftovers(agentId: string): string[] {
    const { store } = this.cluster.sim;
    const label = sanitizeLabelValue(agentId);
    return ["jobs", "pods", "secrets"].flatMap((resource) =>
      store
        .list(resource, { filter: (object) => object.metadata.labels?.[LABEL_AGENT_ID] === label })
        .items.map((object) => `${resource}/${object.metadata.name}`),
    );
  }

  /** The run left nothing behind in the cluster (the pod and Secret go through garbage collection). */
  async expectCleanCluster(agentId: string): Promise<void> {
    await vi.waitFor(() => expect(this.leftovers(agentId)).toEqual([]), { timeout: 15_000, interval: 100 });
  }

  /** Waits until the agent's pod runs and has printed `lines` transcript lines. */
  async untilStreaming(run: RecordedRun, lines = 1): Promise<void> {
    await vi.waitFor(() => expect(run.transcript().length).toBeGreaterThanOrEqual(lines), { timeout: 30_000, interval: 50 });
  }

  /** The agent's pod (there is one per Job), once it exists. */
  async podOf(agentId: string): Promise<string> {
    let name = "";
    await vi.waitFor(
      () => {
        const pod = this.cluster.sim.store
          .list("pods")
          .items.find((object) => object.metadata.annotations?.[ANNOTATION_AGENT_ID] === agentId);
        expect(pod).toBeDefined();
        name = pod?.metadata.name ?? "";
      },
      { timeout: 30_000, interval: 50 },
    );
    return name;
  }
}

/**
 * Registers the hooks of a test file (or `describe`) of `execute()` runs on one conformance cluster: `start` before its
 * tests, a check after each that none of its runs left anything behind (no Job, pod or Secret, no run directory), and
 * everything stopped after them. Returns the context's getter, usable inside a test.
 */
export function useConformanceContext<TParsed>(start: () => Promise<ConformanceContext<TParsed>>): () => ConformanceContext<TParsed> {
  let context: ConformanceContext<TParsed> | undefined;
  beforeAll(async () => {
    context = await start();
  });
  afterEach(async () => {
    await context?.expectNothingLeftBehind();
  });
  afterAll(async () => {
    stopReapers();
    await stopSharedWatches();
    await context?.cluster.stop();
  });
  return () => {
    if (context === undefined) throw new Error("the conformance cluster is not started: use the context inside a test");
    return context;
  };
}
