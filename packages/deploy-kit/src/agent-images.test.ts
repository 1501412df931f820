import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
async function runPod(sim: SimCluster, name: string, image: string, command: string[], home: string): Promise<{ phase: string; exitCode: string; log: string }> {
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
          env: [{ name: "HOME", value: home }],
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

const IMAGES = [
  { cli: "claude", npmPackage: "@anthropic-ai/claude-code", versionVariable: "CLAUDE_CODE_VERSION" },
  { cli: "opencode", npmPackage: "opencode-ai", versionVariable: "OPENCODE_VERSION" },
  { cli: "codex", npmPackage: "@openai/codex", versionVariable: "CODEX_VERSION" },
];

describe.each(IMAGES)("deploy/images/$cli", ({ cli, npmPackage, versionVariable }) => {
  const recipeDir = path.join(repoRoot, "deploy", "images", cli);
  const cleanups: (() => Promise<void>)[] = [];
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
    expect(recipe).toContain(`COPY --from=install /opt/${cli}/bin/${cli} /opt/${cli}/bin/${cli}\n`);
    expect(recipe).toMatch(new RegExp(`^ENV PATH=/opt/${cli}/bin:`, "m"));
    expect(recipe).toMatch(new RegExp(`^USER ${AGENT_UID}:${AGENT_UID}$`, "m"));
  });

  it("installs a CLI that runs in a simulated pod whose image is the install's bin directory", async () => {
    const prefix = await mkdtemp(path.join(tmpdir(), `deploy-kit-${cli}-`));
    cleanups.push(() => rm(prefix, { recursive: true, force: true }));
    // The pinned Node first on PATH (npm and node for the install, as in the Dockerfile's build stage).
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    const installed = (await run("sh", [path.join(recipeDir, "install.sh"), prefix], env)).trim();
    expect(installed).toBe(path.join(prefix, "bin", cli));

    const home = await mkdtemp(path.join(tmpdir(), `deploy-kit-${cli}-home-`));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    await chmod(home, 0o777);
    const image = `registry.example.test/paperclip-agent-${cli}:kit`;
    const sim = await startSimCluster({ images: { [image]: [path.join(prefix, "bin")] } });
    cleanups.push(() => sim.stop());

    const outcome = await runPod(sim, `${cli}-version`, image, [cli, "--version"], home);
    expect(outcome).toEqual({ phase: "Succeeded", exitCode: "0", log: expect.stringContaining(await lockedVersion(npmPackage)) });
  });
});
