/**
 * A real npm registry on 127.0.0.1 for a test: Verdaccio (from npm), run as a child process, its storage in a
 * temporary directory, with no uplinks, so nothing is fetched from or sent to the internet.
 *
 * Without uplinks the registry holds only what the test puts in it. `seedDependencies` copies in, from the repo's
 * own install (npm's cache of the tarballs it downloaded), every third-party package the published packages need
 * at run time, so npm can install them by name from this registry alone.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freePort } from "./paperclip-server.ts";

const READY_TIMEOUT_MS = 60_000;

export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** Environment that points npm at this registry, with a publish token for it (an npm user config). */
  npmEnv(): Record<string, string>;
  /**
   * Puts the third-party packages that the workspace packages in `packageDirs` need at run time (recursively, as
   * installed in `workspaceRoot`) into the registry, each as the tarball npm downloaded for that install.
   */
  seedDependencies(packageDirs: string[], workspaceRoot: string): Promise<number>;
  /** Every version the registry holds of `name`. */
  versions(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readManifest(dir: string): Promise<JsonObject> {
  const manifest: unknown = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
  if (!isObject(manifest)) throw new Error(`${dir}/package.json is not an object`);
  return manifest;
}

function names(value: unknown): string[] {
  return isObject(value) ? Object.keys(value) : [];
}

/** Node's resolution of `name` from `fromDir`: the nearest `node_modules/<name>` up the tree, real path. */
function resolvePackageDir(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return realpathSync(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The installed third-party packages `roots` need at run time: dependencies, optional dependencies that are
 * installed, and required peers, recursively. Packages under `ownDir` (the workspace's own) are left out.
 */
async function runtimeClosure(roots: string[], ownDir: string): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    const manifest = await readManifest(dir);
    const optionalPeers = isObject(manifest.peerDependenciesMeta) ? manifest.peerDependenciesMeta : {};
    const wanted = [
      ...names(manifest.dependencies),
      ...names(manifest.optionalDependencies),
      ...names(manifest.peerDependencies).filter((peer) => !(isObject(optionalPeers[peer]) && optionalPeers[peer].optional === true)),
    ];
    for (const name of wanted) {
      // Optional dependencies for other platforms are not installed; npm skips them when the registry lacks them.
      const resolved = resolvePackageDir(dir, name);
      if (resolved === undefined || resolved.startsWith(ownDir + path.sep) || found.has(resolved)) continue;
      found.add(resolved);
      await visit(resolved);
    }
  };
  for (const root of roots) await visit(root);
  return [...found];
}

function run(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.slice(0, 6).join(" ")} … failed: ${error.message}\n${stderr.slice(-3000)}`));
      else resolve(stdout);
    });
  });
}

function verdaccioConfig(dir: string): string {
  // Everyone may read; publishing needs a registered user (the test registers one). No uplinks.
  return [
    `storage: ${JSON.stringify(path.join(dir, "storage"))}`,
    "auth:",
    "  htpasswd:",
    `    file: ${JSON.stringify(path.join(dir, "htpasswd"))}`,
    "    max_users: 10",
    "uplinks: {}",
    "packages:",
    "  '**':",
    "    access: $all",
    "    publish: $authenticated",
    "    unpublish: $authenticated",
    "max_body_size: 200mb",
    "log: { type: stdout, format: pretty, level: warn }",
    "",
  ].join("\n");
}

/** Starts Verdaccio on a free port of 127.0.0.1 and registers a publishing user. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "paperclip-registry-"));
  const configPath = path.join(dir, "config.yaml");
  await writeFile(configPath, verdaccioConfig(dir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const verdaccioBin = path.join(path.dirname(createRequire(import.meta.url).resolve("verdaccio/package.json")), "bin", "verdaccio");
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [verdaccioBin, "--config", configPath, "--listen", `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-50_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Verdaccio exited (${child.exitCode}):\n${output}`);
      if (await fetch(`${url}-/ping`).then((response) => response.ok, () => false)) break;
      if (Date.now() > deadline) throw new Error(`Verdaccio was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const user = "paperclip-e2e";
    const registered = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: user, password: "paperclip-e2e-password", type: "user", roles: [], date: new Date().toISOString() }),
    });
    const answer: unknown = await registered.json();
    if (!registered.ok || !isObject(answer) || typeof answer.token !== "string") {
      throw new Error(`registering a user with Verdaccio answered ${registered.status}: ${JSON.stringify(answer)}`);
    }
    const token = answer.token;
    const userconfig = path.join(dir, "npmrc");
    const authority = `//127.0.0.1:${port}/`;
    await writeFile(userconfig, `registry=${url}\n${authority}:_authToken=${token}\n`);
    const npmEnv = (): Record<string, string> => ({ npm_config_registry: url, npm_config_userconfig: userconfig });
    const authorized = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    /** Publishes one tarball with the registry's publish request (what `npm publish` sends). */
    const publishTarball = async (manifest: JsonObject, tarball: Buffer): Promise<void> => {
      const name = String(manifest.name);
      const version = String(manifest.version);
      const file = `${name.split("/").at(-1)}-${version}.tgz`;
      const body = {
        _id: name,
        name,
        "dist-tags": { latest: version },
        versions: {
          [version]: {
            ...manifest,
            _id: `${name}@${version}`,
            dist: {
              tarball: `${url}${name}/-/${file}`,
              shasum: createHash("sha1").update(tarball).digest("hex"),
              integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
            },
          },
        },
        _attachments: { [file]: { content_type: "application/octet-stream", data: tarball.toString("base64"), length: tarball.length } },
      };
      const response = await fetch(`${url}${name.replace("/", "%2f")}`, { method: "PUT", headers: authorized, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`publishing ${name}@${version} to Verdaccio answered ${response.status}: ${await response.text()}`);
    };

    return {
      url,
      npmEnv,
      seedDependencies: async (packageDirs, workspaceRoot) => {
        const closure = await runtimeClosure(packageDirs, path.join(workspaceRoot, "packages"));
        const lockfile: unknown = JSON.parse(await readFile(path.join(workspaceRoot, "package-lock.json"), "utf8"));
        const locked = isObject(lockfile) && isObject(lockfile.packages) ? lockfile.packages : {};
        const cache = (await run("npm", ["config", "get", "cache"], { cwd: workspaceRoot, env: process.env })).trim();
        const published = new Set<string>();
        for (const dir of closure) {
          const entry = locked[path.relative(workspaceRoot, dir)];
          // Bundled dependencies travel inside their parent's tarball.
          if (isObject(entry) && entry.inBundle === true) continue;
          const manifest = await readManifest(dir);
          const id = `${String(manifest.name)}@${String(manifest.version)}`;
          // The same version installed in two places is one package to the registry.
          if (published.has(id)) continue;
          published.add(id);
          // The tarball npm downloaded for the repo's install, from npm's content-addressed cache: installed
          // directories are not what was published once install scripts have run in them.
          const integrity = isObject(entry) && typeof entry.integrity === "string" ? entry.integrity : "";
          const sha512 = /^sha512-(\S+)$/.exec(integrity.split(" ")[0] ?? "")?.[1];
          if (sha512 === undefined) throw new Error(`package-lock.json has no sha512 integrity for ${dir}`);
          const hex = Buffer.from(sha512, "base64").toString("hex");
          const cached = path.join(cache, "_cacache", "content-v2", "sha512", hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
          if (!existsSync(cached)) throw new Error(`${dir}'s tarball is not in npm's cache (${cached}); run npm ci first`);
          await publishTarball(manifest, await readFile(cached));
        }
        return published.size;
      },
      versions: async (name) => {
        const response = await fetch(`${url}${name.replace("/", "%2f")}`);
        if (response.status === 404) return [];
        const packument: unknown = await response.json();
        return isObject(packument) ? names(packument.versions) : [];
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
