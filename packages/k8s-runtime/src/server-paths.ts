/**
 * Which files and directories of the Paperclip SERVER an adapter config may name. Agent configs can be written by
 * agents (Paperclip lets agents hire agents), and the server reads what they name as its own user: an
 * `instructionsFilePath` of `/proc/self/environ` once copied the server's secrets into the agent's pod. So a path
 * from config is read only when, with every symbolic link resolved, it lies under a root the policy allows for
 * that purpose and under none of the forbidden places.
 *
 * Allowed roots (`<ir>` is Paperclip's instance root, `<company>`/`<agent>` the run's ids):
 * - instructions: the agent's managed instructions `<ir>/companies/<company>/agents/<agent>/instructions`, its
 *   default workspace `<ir>/workspaces/<agent>`, the company's project checkouts `<ir>/projects/<company>`;
 * - skills: the company's skill library `<ir>/skills/<company>`, the skills bundled in Paperclip's own install,
 *   the agent's workspace and the company's project checkouts;
 * - kubeconfig: the server user's `~/.kube` and the directories of the server's `$KUBECONFIG` files;
 * - for every purpose, the operator's roots from the SERVER environment `PAPERCLIP_K8S_ALLOWED_FILE_ROOTS`
 *   (absolute paths separated by `:`), never from agent config.
 * Forbidden, even under an allowed root: `/proc`, `/sys`, `/dev`, and in the instance root (the server's own and
 * the configured one) `secrets/`, `db/`, `data/`, `logs/`, `config.json` and `.env`, and `$PAPERCLIP_CONFIG`.
 */
import { existsSync, fstat, realpathSync, type BigIntStats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { resolvePaperclipInstanceRootForAdapter } from "@paperclipai/adapter-utils/server-utils";
import { ConfigForbiddenError, ConfigValueError } from "./config-values.ts";
import { openRegularFile, readCapped, UnsafeFileError } from "./safe-file.ts";

/** Server env: extra roots the operator allows config paths under (absolute, `:`-separated). */
export const ALLOWED_FILE_ROOTS_ENV = "PAPERCLIP_K8S_ALLOWED_FILE_ROOTS";

export type ServerPathPurpose = "instructions" | "skills" | "kubeconfig";

export interface ServerPathScope {
  /** The instance root the run uses (config `instanceRoot` or Paperclip's). */
  instanceRoot: string;
  companyId: string;
  /** Null when unknown (the environment test): the agent's own roots are then left out. */
  agentId: string | null;
  /** The server's environment: the operator's roots and Paperclip's own instance root come from here. */
  env: NodeJS.ProcessEnv;
}

interface Root {
  path: string;
  /** What the root is, for messages. */
  what: string;
}

export interface ServerPathPolicy {
  purpose: ServerPathPurpose;
  allowed: readonly Root[];
  forbidden: readonly string[];
}

const SYSTEM_DIRECTORIES = ["/proc", "/sys", "/dev"];
/** What Paperclip keeps in its instance root that no agent may name (see `@paperclipai/shared` home-paths). */
const INSTANCE_PRIVATE_ENTRIES = ["secrets", "db", "data", "logs", "config.json", ".env"];

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/** The operator's roots: absolute paths only (a relative one would depend on the server's cwd). */
export function operatorRoots(env: NodeJS.ProcessEnv): string[] {
  return (env[ALLOWED_FILE_ROOTS_ENV] ?? "")
    .split(":")
    .map((entry) => entry.trim())
    .filter((entry) => path.isAbsolute(entry))
    .map((entry) => path.resolve(entry));
}

let paperclipInstall: string[] | undefined;

/**
 * Where Paperclip's own package keeps its bundled skills: `@paperclipai/server/skills` (and its releases), found
 * from the server's entry script upwards the way Node resolves packages. Once per process.
 */
function paperclipSkillDirectories(): string[] {
  if (paperclipInstall !== undefined) return paperclipInstall;
  const found: string[] = [];
  const entry = process.argv[1];
  for (let dir = entry ? path.dirname(path.resolve(entry)) : ""; dir !== "" && dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const server = path.join(dir, "node_modules", "@paperclipai", "server");
    if (existsSync(path.join(server, "package.json"))) {
      found.push(path.join(server, "skills"), path.join(server, "skills-releases"));
      break;
    }
  }
  paperclipInstall = found;
  return found;
}

function serverInstanceRoot(env: NodeJS.ProcessEnv): string | null {
  try {
    return resolvePaperclipInstanceRootForAdapter({ env });
  } catch {
    return null;
  }
}

function kubeconfigRoots(env: NodeJS.ProcessEnv): Root[] {
  const files = (env.KUBECONFIG ?? "").split(":").filter((entry) => path.isAbsolute(entry));
  return [
    { path: path.join(homedir(), ".kube"), what: "the server user's ~/.kube" },
    ...files.map((file) => ({ path: path.dirname(file), what: "the directory of the server's $KUBECONFIG" })),
  ];
}

/** The roots and forbidden places for `purpose` in `scope`. */
export function serverPathPolicy(purpose: ServerPathPurpose, scope: ServerPathScope): ServerPathPolicy {
  const ir = scope.instanceRoot;
  const agentId = scope.agentId;
  const agentWorkspace = agentId === null ? [] : [{ path: path.join(ir, "workspaces", agentId), what: "the agent's workspace" }];
  const projects = { path: path.join(ir, "projects", scope.companyId), what: "the company's project checkouts" };
  const byPurpose: Record<ServerPathPurpose, () => Root[]> = {
    instructions: () => [
      ...(agentId === null ? [] : [{ path: path.join(ir, "companies", scope.companyId, "agents", agentId, "instructions"), what: "the agent's managed instructions" }]),
      ...agentWorkspace,
      projects,
    ],
    skills: () => [
      { path: path.join(ir, "skills", scope.companyId), what: "the company's skill library" },
      ...paperclipSkillDirectories().map((dir) => ({ path: dir, what: "Paperclip's bundled skills" })),
      ...agentWorkspace,
      projects,
    ],
    kubeconfig: () => kubeconfigRoots(scope.env),
  };
  const instanceRoots = [...new Set([ir, serverInstanceRoot(scope.env)].filter((root) => root !== null))];
  return {
    purpose,
    allowed: [...byPurpose[purpose](), ...operatorRoots(scope.env).map((root) => ({ path: root, what: `${ALLOWED_FILE_ROOTS_ENV}` }))],
    forbidden: [
      ...SYSTEM_DIRECTORIES,
      ...instanceRoots.flatMap((root) => INSTANCE_PRIVATE_ENTRIES.map((entry) => path.join(root, entry))),
      ...(scope.env.PAPERCLIP_CONFIG ? [path.resolve(scope.env.PAPERCLIP_CONFIG)] : []),
    ],
  };
}

/**
 * `realpath(3)`: one system call. Node's plain `realpathSync` walks the path itself, an `lstat` per component, and a
 * path check resolves a dozen policy places per file read, for every run.
 */
const realPathOf = realpathSync.native;

/** A path and, when it exists, the same path with its symbolic links resolved (roots may be links themselves). */
function bothForms(place: string): string[] {
  try {
    const real = realPathOf(place);
    return real === place ? [place] : [place, real];
  } catch {
    return [place];
  }
}

/** Why `candidate` (absolute, normalized) may not be used, or null when it may. */
function refusal(policy: ServerPathPolicy, candidate: string): string | null {
  const forbidden = policy.forbidden.find((place) => bothForms(place).some((form) => isInside(form, candidate)));
  if (forbidden !== undefined) return `it lies in ${forbidden}, which config may never name`;
  if (policy.allowed.some((root) => bothForms(root.path).some((form) => isInside(form, candidate)))) return null;
  const roots = policy.allowed.map((root) => `${root.path} (${root.what})`).join(", ");
  return `it is outside the allowed roots for ${policy.purpose}: ${roots || "none"}; the operator can add roots with ${ALLOWED_FILE_ROOTS_ENV} on the server`;
}

/**
 * The real path (every symbolic link resolved) of `value`, a server path from config `key`, when the policy
 * allows it. The path as written is checked before the filesystem is touched (no probing of places outside the
 * roots), then its real path. Throws `ConfigForbiddenError` when refused, `ConfigValueError` when it is not
 * an absolute path or does not exist. Messages show the path, or `shownAs` in its place.
 */
export function resolveServerPath(policy: ServerPathPolicy, key: string, value: string, options: { shownAs?: string } = {}): string {
  const shown = options.shownAs ?? `${key} ${JSON.stringify(value)}`;
  if (!path.isAbsolute(value)) throw new ConfigValueError(key, `config.${shown} must be an absolute path`);
  const written = path.resolve(value);
  const problem = refusal(policy, written);
  if (problem !== null) throw new ConfigForbiddenError(key, `config.${shown} is refused: ${problem}`);
  let real: string;
  try {
    real = realPathOf(written);
  } catch {
    throw new ConfigValueError(key, `config.${shown} does not exist or cannot be read`);
  }
  const realProblem = refusal(policy, real);
  if (realProblem !== null) throw new ConfigForbiddenError(key, `config.${shown} is refused: it is a link to ${real}, and ${realProblem}`);
  return real;
}

/** Server files whose text is remembered (`readServerFile`); a kubeconfig or an instructions file is read per run. */
const REMEMBERED_FILES = 64;
/** Larger files are read every time: the memory is meant for small, often read configuration. */
const REMEMBERED_MAX_BYTES = 64 * 1024;

/** What was read from a file, and the identity and version of the file it came from. */
interface RememberedText {
  version: string;
  text: string;
  bytes: number;
}
const rememberedTexts = new Map<string, RememberedText>();

/** Device, inode, size, change and modification times: another file, or any write to this one, changes it. */
function versionOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.ctimeNs}:${stats.mtimeNs}`;
}

/** A server file's text, and the real path it was read from (every link resolved). */
export interface ServerFileText {
  path: string;
  text: string;
}

/**
 * The text of the file `value` names (config `key`), at most `maxBytes`, when the policy allows it: resolved and
 * checked by `resolveServerPath`, opened without following a link, regular files only, and the opened file's own
 * path checked again (a directory swapped for a link between the check and the open is caught). A small file read
 * before is not read again while it is the same file, unchanged (one `stat` instead of an open and reads): the
 * path checks still run every time.
 */
export async function readServerFile(policy: ServerPathPolicy, key: string, value: string, maxBytes: number): Promise<ServerFileText> {
  const real = resolveServerPath(policy, key, value);
  const remembered = rememberedTexts.get(real);
  if (remembered !== undefined && remembered.bytes <= maxBytes) {
    const current = await stat(real, { bigint: true }).catch(() => null);
    if (current !== null && current.isFile() && versionOf(current) === remembered.version) return { path: real, text: remembered.text };
  }
  const refuse = (problem: string): never => {
    throw new ConfigForbiddenError(key, `config.${key} ${JSON.stringify(value)} is refused: ${problem}`);
  };
  let handle;
  try {
    handle = await openRegularFile(real);
  } catch (error) {
    if (error instanceof UnsafeFileError) return refuse(error.message);
    throw new ConfigValueError(key, `config.${key} ${JSON.stringify(value)} cannot be read`);
  }
  if (handle === null) throw new ConfigValueError(key, `config.${key} ${JSON.stringify(value)} does not exist`);
  try {
    const opened = await realpath(`/proc/self/fd/${handle.fd}`).catch(() => real);
    const problem = refusal(policy, opened);
    if (problem !== null) refuse(`it changed to ${opened} while being opened, and ${problem}`);
    const version = versionOf(await fstatBigInt(handle.fd));
    const text = await readCapped(handle, maxBytes, () => new ConfigValueError(key, `config.${key} ${JSON.stringify(value)} is larger than ${maxBytes} bytes`));
    remember(real, { version, text, bytes: Buffer.byteLength(text) });
    return { path: real, text };
  } finally {
    await handle.close();
  }
}

function remember(path: string, read: RememberedText): void {
  rememberedTexts.delete(path);
  if (read.bytes > REMEMBERED_MAX_BYTES) return;
  rememberedTexts.set(path, read);
  // The oldest first: a Map iterates in insertion order, and a file read again was moved to the end above.
  for (const oldest of rememberedTexts.keys()) {
    if (rememberedTexts.size <= REMEMBERED_FILES) break;
    rememberedTexts.delete(oldest);
  }
}

/** The version of the open file itself (the version taken before reading it: a write during the read changes it). */
function fstatBigInt(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
}
