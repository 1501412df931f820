import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimCluster, type SimCluster } from "paperclip-k8s-sim";
import { afterAll, describe, expect, it } from "vitest";
import { restrictedViolations } from "./pod-security.ts";
import { at, repoRoot } from "./rendered-kit.ts";

/** The uid agent pods run as in the images and in docs/deploy.md (not the Paperclip server's 10001). */
const AGENT_UID = 10002;

function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr.slice(-5000)}`));
      else resolve(stdout);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The version of `packageName` the repo installed (package-lock.json): what the real-CLI tests run. */
async function lockedVersion(packageName: string): Promise<string> {
  const lock: unknown = JSON.parse(await readFile(path.join(repoRoot, "package-lock.json"), "utf8"));
  const version = at(lock, "packages", `node_modules/${packageName}`, "version");
  if (typeof version !== "string") throw new Error(`${packageName} is not in package-lock.json`);
  return version;
}

/** Runs `command` in a pod of the simulated cluster from `image`, under the restricted profile; its phase and log. */
async function runPod(
  sim: SimCluster,
  name: string,
  image: string,
  command: string[],
  home: string,
  env: Record<string, string> = {},
): Promise<{ phase: string; exitCode: string; log: string }> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      securityContext: { runAsNonRoot: true, runAsUser: AGENT_UID, runAsGroup: AGENT_UID, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "agent",
          image,
          imagePullPolicy: "IfNotPresent",
          command,
          env: Object.entries({ ...env, HOME: home }).map(([envName, value]) => ({ name: envName, value })),
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
  expect(restrictedViolations(pod.spec)).toEqual([]);
  const manifest = path.join(home, `${name}.json`);
  await writeFile(manifest, JSON.stringify(pod));
  const kubectl = (...args: string[]): Promise<string> => run("kubectl", ["--kubeconfig", sim.kubeconfigPath, ...args]);
  await kubectl("create", "--validate=false", "-f", manifest);
  const deadline = Date.now() + 120_000;
  let phase = "";
  while (Date.now() < deadline) {
    phase = await kubectl("get", "pod", name, "-o", "jsonpath={.status.phase}");
    if (phase === "Succeeded" || phase === "Failed") break;
    await sleep(300);
  }
  const exitCode = await kubectl("get", "pod", name, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}");
  return { phase, exitCode, log: (await kubectl("logs", name)).trim() };
}

interface AgentImage {
  cli: string;
  npmPackage: string;
  versionVariable: string;
  /** What the image's final stage copies from the install stage, under /opt/<cli>. */
  copied: string;
  /** The CLI is a Node script: the image is a Node.js one, and the simulated pod gets the pinned node as a layer. */
  runsOnNode: boolean;
}

const IMAGES: AgentImage[] = [
  { cli: "claude", npmPackage: "@anthropic-ai/claude-code", versionVariable: "CLAUDE_CODE_VERSION", copied: "bin/claude", runsOnNode: false },
  { cli: "opencode", npmPackage: "opencode-ai", versionVariable: "OPENCODE_VERSION", copied: "bin/opencode", runsOnNode: false },
  { cli: "codex", npmPackage: "@openai/codex", versionVariable: "CODEX_VERSION", copied: "bin/codex", runsOnNode: false },
  { cli: "gemini", npmPackage: "@google/gemini-cli", versionVariable: "GEMINI_CLI_VERSION", copied: "", runsOnNode: true },
];

/** The lowest Node.js major the repo's installed copy of `npmPackage` declares it needs (`engines.node`, `>=N`). */
async function nodeMajorRequired(npmPackage: string): Promise<number> {
  const manifest: unknown = JSON.parse(await readFile(path.join(repoRoot, "node_modules", npmPackage, "package.json"), "utf8"));
  const range = at(manifest, "engines", "node");
  const major = typeof range === "string" ? /^>=\s*(\d+)/.exec(range)?.[1] : undefined;
  if (major === undefined) throw new Error(`${npmPackage}: engines.node ${JSON.stringify(range)} is not of the form >=N`);
  return Number(major);
}

type Cleanups = (() => Promise<void>)[];

/**
 * Runs the recipe's install.sh into a temporary prefix and starts a simulated cluster whose image `image` is the
 * prefix's bin/ directory (plus the pinned Node.js for a Node script), with a HOME any uid can write.
 */
async function installIntoSimulatedImage(
  { cli, runsOnNode }: AgentImage,
  cleanups: Cleanups,
): Promise<{ installed: string; prefix: string; sim: SimCluster; image: string; home: string }> {
  const prefix = await mkdtemp(path.join(tmpdir(), `deploy-kit-${cli}-`));
  cleanups.push(() => rm(prefix, { recursive: true, force: true }));
  // The pinned Node first on PATH (npm and node for the install, as in the Dockerfile's build stage).
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  const installed = (await run("sh", [path.join(repoRoot, "deploy", "images", cli, "install.sh"), prefix], env)).trim();

  const home = await mkdtemp(path.join(tmpdir(), `deploy-kit-${cli}-home-`));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  await chmod(home, 0o777);
  const image = `registry.example.test/paperclip-agent-${cli}:kit`;
  // A Node script's image has node on its PATH too: the pinned one, as its own layer.
  const layers = [path.join(prefix, "bin"), ...(runsOnNode ? [path.dirname(await realpath(process.execPath))] : [])];
  const sim = await startSimCluster({ images: { [image]: layers } });
  cleanups.push(() => sim.stop());
  return { installed, prefix, sim, image, home };
}

describe.each(IMAGES)("deploy/images/$cli", (agentImage) => {
  const { cli, npmPackage, versionVariable, copied } = agentImage;
  const recipeDir = path.join(repoRoot, "deploy", "images", cli);
  const cleanups: Cleanups = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("pins the CLI version the repo's tests run", async () => {
    const script = await readFile(path.join(recipeDir, "install.sh"), "utf8");
    const pinned = new RegExp(`^${versionVariable}=(\\S+)$`, "m").exec(script)?.[1];
    expect(pinned).toBe(await lockedVersion(npmPackage));
  });

  it("builds the image with the same install script and puts the CLI on the PATH, as a non-root user", async () => {
    const recipe = await readFile(path.join(recipeDir, "Dockerfile"), "utf8");
    expect(recipe).toContain(`RUN sh /kit/${cli}/install.sh /opt/${cli}\n`);
    const installed = path.posix.join(`/opt/${cli}`, copied);
    expect(recipe).toContain(`COPY --from=install ${installed} ${installed}\n`);
    expect(recipe).toMatch(new RegExp(`^ENV PATH=/opt/${cli}/bin:`, "m"));
    expect(recipe).toMatch(new RegExp(`^USER ${AGENT_UID}:${AGENT_UID}$`, "m"));
  });

  it("installs a CLI that runs in a simulated pod whose image is the install's bin directory", async () => {
    const { installed, prefix, sim, image, home } = await installIntoSimulatedImage(agentImage, cleanups);
    expect(installed).toBe(path.join(prefix, "bin", cli));
    const outcome = await runPod(sim, `${cli}-version`, image, [cli, "--version"], home);
    expect(outcome).toEqual({ phase: "Succeeded", exitCode: "0", log: expect.stringContaining(await lockedVersion(npmPackage)) });
  });
});

describe("deploy/images/gemini (a Node script, unlike the other CLIs)", () => {
  const recipeDir = path.join(repoRoot, "deploy", "images", "gemini");
  const gemini = IMAGES.find((candidate) => candidate.cli === "gemini");
  const cleanups: Cleanups = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("runs the CLI on a Node.js image the CLI supports", async () => {
    const recipe = await readFile(path.join(recipeDir, "Dockerfile"), "utf8");
    const finalStage = [...recipe.matchAll(/^FROM (\S+)/gm)].at(-1)?.[1] ?? "";
    const major = /^node:(\d+)\./.exec(finalStage)?.[1];
    expect(major, `the final stage's base ${finalStage}`).toBeDefined();
    expect(Number(major)).toBeGreaterThanOrEqual(await nodeMajorRequired("@google/gemini-cli"));
  });

  it("copies settings.json to Gemini CLI's system settings file, turning off usage statistics, telemetry, update checks and the IDE integration", async () => {
    expect(await readFile(path.join(recipeDir, "Dockerfile"), "utf8")).toMatch(/^COPY --chmod=0644 deploy\/images\/gemini\/settings\.json \/etc\/gemini-cli\/settings\.json$/m);
    const settings: unknown = JSON.parse(await readFile(path.join(recipeDir, "settings.json"), "utf8"));
    expect(settings).toEqual({
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      ide: { enabled: false },
    });
  });

  it("has system settings the CLI reads and accepts, as the agent user in a simulated pod (a control with a bad value is refused)", async () => {
    if (gemini === undefined) throw new Error("IMAGES has no gemini entry");
    const { sim, image, home } = await installIntoSimulatedImage(gemini, cleanups);
    const version = await lockedVersion(gemini.npmPackage);
    // The CLI reads a system settings file only where neither it nor a parent directory is writable by others
    // (else it warns and skips it), and validates it even for --version: a clean version line means read and valid.
    // So the recipe's file is checked from a root-owned directory whose every parent is as safe as /etc/gemini-cli in
    // the image: not the checkout, which may lie under a world-writable /tmp.
    const safeDir = await mkdtemp(path.join("/var/lib", "paperclip-deploy-kit-gemini-"));
    cleanups.push(() => rm(safeDir, { recursive: true, force: true }));
    await chmod(safeDir, 0o755);
    const settings = path.join(safeDir, "settings.json");
    await writeFile(settings, await readFile(path.join(recipeDir, "settings.json")), { mode: 0o644 });
    const accepted = await runPod(sim, "gemini-settings", image, ["gemini", "--version"], home, { GEMINI_CLI_SYSTEM_SETTINGS_PATH: settings });
    expect(accepted).toEqual({ phase: "Succeeded", exitCode: "0", log: version });

    // The control: the same check with a wrongly typed value, from the same directory.
    const control = path.join(safeDir, "control.json");
    await writeFile(control, JSON.stringify({ general: { enableAutoUpdate: "no" } }), { mode: 0o644 });
    const refused = await runPod(sim, "gemini-settings-control", image, ["gemini", "--version"], home, { GEMINI_CLI_SYSTEM_SETTINGS_PATH: control });
    expect(refused.log).toContain(`Invalid configuration in ${control}`);
  });
});
