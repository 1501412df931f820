/**
 * The agent contract: everything an agent CLI package supplies. It is pure data and functions:
 * no Kubernetes, no I/O. `createK8sAdapter(agent)` turns it into a Paperclip adapter.
 */
import type { AdapterConfigSchema, AdapterModel, AdapterSessionCodec, UsageSummary } from "@paperclipai/adapter-utils";
import type { AdapterExecutionErrorFamily } from "@paperclipai/adapter-utils/types";

/** What one run's command is built from. Paths are absolute and identical in the server and the pod. */
export interface AgentCommandInput {
  /** The agent's raw adapter config (`ctx.config`); the runtime has already validated its own keys. */
  config: Readonly<Record<string, unknown>>;
  /** Session to resume, or null for a fresh session. */
  resumeSessionId: string | null;
  /** Model from config (already trimmed), or null for the CLI's default. */
  model: string | null;
  /** Config `extraArgs`, parsed and validated by the runtime (a list, or one shell-like string); appended last. */
  extraArgs: readonly string[];
  /**
   * Config `dangerouslySkipPermissions` (default true, as in Paperclip's local adapters): nobody can
   * answer a permission prompt in a Job.
   */
  dangerouslySkipPermissions: boolean;
  /** Working directory the agent runs in. */
  cwd: string;
  /** The run's input directory on the shared volume, where `runFiles` are written; read-only in the pod. */
  runDir: string;
  /** The prompt, already written by the server; the runtime feeds it to the agent on stdin. */
  promptFile: string;
  /**
   * Instructions file in the run directory (a copy of `instructionsFilePath`), if any. Always null for an
   * agent whose `instructionsDelivery` is `prompt-prefix`: its prompt file already starts with them.
   */
  instructionsFile: string | null;
  /** Where the run's skills are, laid out as the agent's `skillsDelivery` asks (see there), or null when it has none. */
  skillsDir: string | null;
}

/** One run's invocation. argv[0] is the executable; every element is passed as data, never as shell text. */
export interface AgentCommand {
  argv: string[];
  /** Non-secret env for the agent (secrets come from the runtime's per-run Secret). */
  env: Record<string, string>;
  /** Extra files the runtime writes into the run directory before the Job starts (name → content). */
  runFiles?: Record<string, string>;
  /** Human notes shown in the run's invocation meta (e.g. "resuming session …"). */
  notes?: string[];
}

/** How the container ended, as the runtime observed it. */
export interface PodOutcome {
  /** The agent's exit code (exit-code file, else the container's terminated state), or null if unknown. */
  exitCode: number | null;
  /** Signal name when the exit code says the process was killed (137 → SIGKILL). */
  signal: string | null;
  /** Kubernetes terminated-state reason (`OOMKilled`, `Error`, …), when known. */
  reason: string | null;
  /** The pod's cause in words, for messages: "container exited 137 (SIGKILL), reason OOMKilled". */
  description: string;
  /** The last lines of the agent's stderr (bounded). */
  stderrTail: string;
  /** How many lines the agent printed on stdout (0: it never started its work, e.g. a refused flag). */
  stdoutLines: number;
}

/** Facts about the run that the output may not repeat (OpenCode never names its model; Codex starts a new thread on an unknown id). */
export interface RunFacts {
  /** The model the command asked for, or null for the CLI's default. */
  model: string | null;
  /** The session the command asked to resume (`AgentCommandInput.resumeSessionId`), or null for a fresh one. */
  resumeSessionId: string | null;
}

/** What the agent's output means; the runtime adds exit code, timing and Kubernetes facts. */
export interface AgentVerdict {
  sessionId: string | null;
  model?: string | null;
  provider?: string | null;
  biller?: string | null;
  billingType?: "api" | "subscription" | "metered_api" | "unknown" | null;
  usage?: UsageSummary | null;
  costUsd?: number | null;
  summary?: string | null;
  /** Set when the run failed for a reason the agent's output explains. */
  errorMessage?: string | null;
  errorCode?: string | null;
  errorFamily?: AdapterExecutionErrorFamily | null;
  retryNotBefore?: string | null;
  /** The session must not be resumed next time (unknown session, turn limit). */
  clearSession?: boolean;
  /**
   * What `usage` counts (Paperclip's spelling): this run only (default), or everything since the session began
   * (Codex reports thread totals on resume), which Paperclip turns into this run's share.
   */
  usageBasis?: "per_run" | "session_cumulative";
  resultJson?: Record<string, unknown> | null;
}

/** Fed one stdout line at a time; keeps only what `interpret` needs, so memory stays bounded. */
export interface OutputParser<TParsed> {
  push(line: string): void;
  result(): TParsed;
}

/** What the agent CLI can do, so the conformance suite knows which scenarios apply. */
export interface AgentCapabilities {
  /** Reports a turn/step limit in its output (claude: `error_max_turns`). */
  reportsTurnLimit: boolean;
  /** Reports cost in its output. */
  reportsCost: boolean;
}

/**
 * Where the agent CLI looks for skills; the runtime copies the run's skills (each a directory with `SKILL.md`)
 * into the read-only `input/skills/` to match, and passes the path as `AgentCommandInput.skillsDir`.
 */
export type SkillsDelivery =
  /** `skillsDir/<name>/SKILL.md`: a directory of skills the command names (OpenCode: `skills.paths`). */
  | { kind: "directory" }
  /** `skillsDir/.claude/skills/<name>/SKILL.md`: a directory the command adds as a project root (Claude Code: `--add-dir`). */
  | { kind: "claude-project-dir" }
  /**
   * `$HOME/<homePath>/<name>/SKILL.md`, where the CLI only looks under its home (Codex: `.codex/skills` with
   * `CODEX_HOME=$HOME/.codex`; Gemini CLI: `.gemini/skills`). The pod mounts `input/skills/` there, read-only,
   * over whatever the agent's HOME holds; `skillsDir` is that path. `homePath` is relative, without `..`.
   */
  | { kind: "home"; homePath: string };

/**
 * How the agent gets `instructionsFilePath`'s text: `file`, as `AgentCommandInput.instructionsFile` for the command
 * to pass (Claude's `--append-system-prompt-file`, OpenCode's `instructions`); `prompt-prefix`, in front of the prompt
 * on stdin (the CLI has no such flag: Codex, Gemini CLI), except when a resumed session gets only a wake delta.
 */
export type InstructionsDelivery = "file" | "prompt-prefix";

export interface AgentDefinition<TParsed = unknown> {
  /** Paperclip adapter type, e.g. `claude_k8s`. */
  type: string;
  label: string;
  /** Name of the agent container in the Job's pod. */
  containerName: string;
  /** Suggested image, shown in docs and the config form. */
  defaultImageHint: string;
  capabilities: AgentCapabilities;
  skillsDelivery: SkillsDelivery;
  instructionsDelivery: InstructionsDelivery;
  buildCommand(input: AgentCommandInput): AgentCommand;
  createParser(): OutputParser<TParsed>;
  interpret(parsed: TParsed, outcome: PodOutcome, facts: RunFacts): AgentVerdict;
  models: AdapterModel[];
  /** The agent's own config fields; the runtime adds the Kubernetes ones. */
  configFields: AdapterConfigSchema["fields"];
  /** Markdown for the agent's own config keys; the runtime appends the Kubernetes keys' doc. */
  configurationDoc: string;
  sessionCodec?: AdapterSessionCodec;
}
