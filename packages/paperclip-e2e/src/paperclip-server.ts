/**
 * A real Paperclip server (npm `paperclipai`, embedded PostgreSQL) started for a test: bound to 127.0.0.1 on a
 * free port, `local_trusted` (loopback requests act as the local admin), its home in a directory the caller
 * chooses (the tests lay it on the simulated cluster's shared volume).
 *
 * Embedded PostgreSQL refuses to run as root, so a root test run starts the server as an unprivileged user
 * (`paperclip`, created by `scripts/install-paperclip.sh`). That user gets one capability, CAP_DAC_READ_SEARCH
 * (read any file, write nothing more), so it can load the adapters from the repo wherever the clone lives,
 * even under a private home directory.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";

export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export interface PaperclipServerOptions {
  /** The install directory printed by `scripts/install-paperclip.sh`. */
  installDir: string;
  /** PAPERCLIP_HOME: created, and handed to `user` when given. */
  home: string;
  /** Run the server as this user (required when the tests run as root). */
  user?: ServerUser;
  /** Extra environment for the server (provider credentials for the agents, ...). */
  env?: Record<string, string>;
}

export interface PaperclipServer {
  /** `http://127.0.0.1:<port>`, also the server's PAPERCLIP_API_URL. */
  readonly url: string;
  readonly home: string;
  /** The server's output so far (for failure messages). */
  output(): string;
  /** Simulates the server's pod dying: SIGKILL to the server and everything it started (its PostgreSQL too). */
  crash(): Promise<void>;
  /** Starts the server again on the same home and port, and waits until it is ready. */
  restart(): Promise<void>;
  /** Stops the server and everything it started (SIGTERM, then SIGKILL to the process group). */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_LIMIT = 200_000;

/** Looks up a user in the passwd database (`getent`), or throws naming the fix. */
export function lookUpUser(name: string): ServerUser {
  let entry: string;
  try {
    entry = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`user "${name}" does not exist; run scripts/install-paperclip.sh as root to create it`);
  }
  const [, , uid, gid] = entry.split(":");
  if (uid === undefined || gid === undefined) throw new Error(`unexpected passwd entry for "${name}": ${entry}`);
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("could not find a free port"))));
    });
  });
}

/** Paperclip's config file for a private, loopback-only instance whose files all live under `home`. */
function instanceConfig(home: string, port: number, postgresPort: number): Record<string, unknown> {
  return {
    $meta: { version: 1, updatedAt: new Date().toISOString(), source: "onboard" },
    database: {
      mode: "embedded-postgres",
      embeddedPostgresDataDir: path.join(home, "db"),
      embeddedPostgresPort: postgresPort,
      backup: { enabled: false, intervalMinutes: 60, retentionDays: 1, dir: path.join(home, "backups") },
    },
    logging: { mode: "file", logDir: path.join(home, "logs") },
    server: { deploymentMode: "local_trusted", exposure: "private", host: "127.0.0.1", port, serveUi: false },
    telemetry: { enabled: false },
    updates: { checkEnabled: false },
    storage: { provider: "local_disk", localDisk: { baseDir: path.join(home, "storage") } },
    secrets: { provider: "local_encrypted", localEncrypted: { keyFilePath: path.join(home, "secrets", "master.key") } },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a whole process group and waits (up to `waitMs`) until none of it is left. */
async function killGroup(pid: number, signal: NodeJS.Signals, waitMs: number): Promise<boolean> {
  try {
    process.kill(-pid, signal);
  } catch {
    return true;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return true;
    await sleep(100);
  }
  return !groupAlive(pid);
}

/** Starts Paperclip and waits until `GET /api/health` answers. */
export async function startPaperclipServer(options: PaperclipServerOptions): Promise<PaperclipServer> {
  const entry = path.join(options.installDir, "node_modules", "@paperclipai", "server", "dist", "index.js");
  if (!existsSync(entry)) throw new Error(`Paperclip server entry ${entry} is missing; run scripts/install-paperclip.sh`);
  if (process.getuid?.() === 0 && options.user === undefined) {
    throw new Error("the tests run as root: give a user for the server (embedded PostgreSQL refuses to run as root)");
  }
  const port = await freePort();
  const postgresPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { home, user } = options;
  await mkdir(home, { recursive: true });
  const configPath = path.join(home, "config.json");
  await writeFile(configPath, `${JSON.stringify(instanceConfig(home, port, postgresPort), null, 2)}\n`);
  if (user) {
    await chown(home, user.uid, user.gid);
    await chown(configPath, user.uid, user.gid);
  }

  const env: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: "C.UTF-8",
    PAPERCLIP_HOME: home,
    PAPERCLIP_CONFIG: configPath,
    PAPERCLIP_DEPLOYMENT_MODE: "local_trusted",
    PAPERCLIP_AGENT_JWT_SECRET: "paperclip-e2e-jwt-secret-not-for-production",
    PAPERCLIP_API_URL: url,
    PAPERCLIP_MIGRATION_AUTO_APPLY: "true",
    PAPERCLIP_MIGRATION_PROMPT: "never",
    PAPERCLIP_OPEN_ON_LISTEN: "false",
    HOST: "127.0.0.1",
    PORT: String(port),
    SERVE_UI: "false",
    ...options.env,
  };
  const argv = [process.execPath, entry];
  const command = user
    ? [
        "setpriv",
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        "--",
        ...argv,
      ]
    : argv;

  let output = "";
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const [file, ...args] = command;
    if (file === undefined) throw new Error("empty server command");
    // Its own process group, so stop() reaches PostgreSQL and every other child with one signal.
    const started = spawn(file, args, { cwd: home, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
    };
    started.stdout?.on("data", collect);
    started.stderr?.on("data", collect);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`Paperclip exited before it was ready (${started.exitCode ?? started.signalCode}):\n${output.slice(-5000)}`);
      }
      const healthy = await fetch(`${url}/api/health`).then((response) => response.ok, () => false);
      if (healthy) return;
      await sleep(250);
    }
    throw new Error(`Paperclip was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output.slice(-5000)}`);
  };

  const stopGroup = async (): Promise<void> => {
    const current = child;
    if (current?.pid === undefined) return;
    if (!(await killGroup(current.pid, "SIGTERM", STOP_GRACE_MS))) await killGroup(current.pid, "SIGKILL", STOP_GRACE_MS);
    await exited(current);
  };

  try {
    await launch();
  } catch (error) {
    await stopGroup();
    throw error;
  }

  return {
    url,
    home,
    output: () => output,
    crash: async () => {
      const current = child;
      if (current?.pid === undefined) throw new Error("the server is not running");
      await killGroup(current.pid, "SIGKILL", STOP_GRACE_MS);
      await exited(current);
    },
    restart: async () => {
      await stopGroup();
      await launch();
    },
    stop: stopGroup,
  };
}
