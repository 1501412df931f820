/**
 * Test support: what an agent package tells the shared real-CLI tests about its CLI (`RealCliSpec`), defined in the
 * package's own `src/real-cli-spec.ts`. Nothing here knows any particular CLI.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { isJsonObject } from "../agent-kit/json-fields.ts";
import type { LlmDialect } from "./llm-server/dialects.ts";
import type { ScriptedShellTool } from "./llm-server/scenario.ts";

/** The shared real-CLI scenarios (`describeRealCliConformance`), by name. */
export const REAL_CLI_SCENARIOS = ["happy-and-resume", "unknown-session", "api-error-500", "api-error-401", "empty-reply", "oom-while-replying"] as const;
export type RealCliScenario = (typeof REAL_CLI_SCENARIOS)[number];

/** A file inside one of the image's layers. */
export interface RealCliImageFile {
  /** Index into `RealCliImage.layers`. */
  layer: number;
  /** Path inside that layer directory. */
  path: string;
}

/** What a real CLI's image holds. */
export interface RealCliImage {
  /** Host directories, each one image layer, all on the pod's PATH in this order (after the runtime's shim). */
  layers: string[];
  /** What the shim named like the CLI runs, the CLI's arguments after it: e.g. the binary, or `node` and a script. */
  entrypoint: RealCliImageFile[];
}

/** What a spec's `env` gets for one run. */
export interface RealCliEnvInput {
  /** The run's base URL on the scripted LLM, without a trailing slash (OpenAI-style clients add `/v1`). */
  baseUrl: string;
  /** CLI-specific settings the test passed (`RealCliRunInput.cliSettings`; e.g. OpenCode config to merge), or `{}`. */
  settings: Readonly<Record<string, unknown>>;
}

export interface RealCliSpec {
  /** The CLI's executable name (argv[0] of the agent's command); its error codes are `<cli>_…` (`claude_truncated`). */
  cli: string;
  /** What the CLI's image holds; throws, saying what to install, when the CLI is not installed. */
  image(): RealCliImage;
  /** The API dialect the CLI speaks (`LLM_DIALECTS`): its model requests are recorded with this `api`. */
  dialect: LlmDialect;
  /** The CLI's shell tool: the scripted model calls it by this name with these arguments. */
  shellTool: ScriptedShellTool;
  /** Adapter config `env` that points the CLI at the scripted LLM, offline, with retries kept quick. */
  env(run: RealCliEnvInput): Record<string, string>;
  /** Adapter config every scripted run starts from (e.g. the `model` the scripted provider serves); a test's own config goes over it. */
  config?: Record<string, unknown>;
  /** How the CLI's transcript shows what the scenarios wait for and check. */
  transcript: {
    /** Matches once the transcript shows the scripted shell command ran (the OOM scenario kills only after it is printed). */
    toolRan: RegExp;
    /** Matches only a transcript of a turn that ended (the CLI's final event); absent after a kill mid-reply. */
    turnEnded: RegExp;
  };
  sessions: {
    /** A session id of the CLI's form that no session has. */
    unknownId: string;
    /** The error message of a run asked to resume `unknownId`. */
    unknownMessage: RegExp;
  };
  /** Shared scenarios this CLI cannot express, each with the reason; they are left out of its suite. */
  omit?: Partial<Record<RealCliScenario, string>>;
}

const requireFromHere = createRequire(import.meta.url);

/** Where to look for a file in an installed npm package: a path inside it, or one of its `bin` entries. */
export type InstalledFileCandidate = { package: string; file: string } | { package: string; bin: string };

function packageDir(name: string): string | null {
  try {
    return path.dirname(requireFromHere.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function candidatePath(candidate: InstalledFileCandidate): string | null {
  const dir = packageDir(candidate.package);
  if (dir === null) return null;
  let relative: unknown;
  if ("file" in candidate) relative = candidate.file;
  else {
    const manifest: unknown = requireFromHere(`${candidate.package}/package.json`);
    relative = isJsonObject(manifest) && isJsonObject(manifest.bin) ? manifest.bin[candidate.bin] : undefined;
  }
  if (typeof relative !== "string") return null;
  const file = path.join(dir, relative);
  return existsSync(file) ? file : null;
}

/**
 * The host path of the first candidate that is installed (in the repository's node_modules), or an error naming
 * `what` and every place looked at.
 */
export function installedFile(what: string, candidates: readonly InstalledFileCandidate[]): string {
  for (const candidate of candidates) {
    const found = candidatePath(candidate);
    if (found !== null) return found;
  }
  const places = candidates.map((candidate) => ("file" in candidate ? `${candidate.package}/${candidate.file}` : `the ${candidate.bin} bin of ${candidate.package}`));
  throw new Error(`${what} is not installed: none of ${places.join(", ")} is in node_modules (npm install at the repository root)`);
}
