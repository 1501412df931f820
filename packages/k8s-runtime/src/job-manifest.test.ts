import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { describe, expect, it } from "vitest";
import { wrapAgentCommand } from "./command-wrapper.ts";
import { buildJobManifest, type JobManifestInput } from "./job-manifest.ts";
import { buildRunAnnotations, buildRunLabels } from "./labels.ts";
import { jobNameFor, runSecretNameFor } from "./names.ts";
import { collectInheritedEnv } from "./pod-env.ts";
import { agentClaimMounts } from "./pod-volumes.ts";
import { runDirectoryFor } from "./run-directory.ts";
import { buildRunSecret } from "./run-secret.ts";

const run = {
  agentId: "agent-1",
  agentName: "Coder",
  runId: "run-1",
  companyId: "co-1",
  adapterType: "claude_k8s",
  taskId: "task-1",
  sessionId: null,
};
const runDirectory = runDirectoryFor({ instanceRoot: "/paperclip/instances/default", companyId: "co-1", agentId: "agent-1", runId: "run-1" });
const runDir = runDirectory.dir;
const workspace = "/paperclip/instances/default/workspaces/agent-1";
const name = jobNameFor(run.agentId, run.runId);
const labels = buildRunLabels(run, { team: "platform" });

const inherited = collectInheritedEnv({
  processEnv: { ANTHROPIC_API_KEY: "sk-ant-inherited-literal", DATABASE_URL: "postgres://secret-db" },
  serverContainer: {
    name: "paperclip",
    env: [{ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "llm-keys", key: "openai" } } }],
  },
  inheritEnv: [],
});
const secretValues = {
  ...inherited.secretValues,
  MY_CONFIG_TOKEN: "config-env-secret-value",
  PAPERCLIP_API_KEY: "eyJhbGciOi.run-jwt.signature",
};
const secret = buildRunSecret({ name: runSecretNameFor("agent-1"), namespace: "agents", labels, holder: { agentId: "agent-1", runId: "run-1", jobName: name }, values: secretValues });

function input(overrides: Partial<JobManifestInput> = {}): JobManifestInput {
  return {
    name,
    namespace: "agents",
    labels,
    annotations: buildRunAnnotations(run),
    containerName: "claude",
    image: "ghcr.io/example/claude-code:1.0",
    imagePullPolicy: "IfNotPresent",
    imagePullSecrets: ["regcred"],
    command: wrapAgentCommand({
      argv: ["claude", "-p", "--output-format", "stream-json"],
      cwd: workspace,
      stdinFile: runDirectory.prompt,
      stdoutFile: runDirectory.stdout,
      stderrFile: runDirectory.stderr,
      exitCodeFile: runDirectory.exitCode,
    }),
    env: {
      plain: { PAPERCLIP_RUN_ID: "run-1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", MY_CONFIG_TOKEN: "overridden" },
      references: inherited.references,
      envFrom: inherited.envFrom,
      secret: { name: runSecretNameFor("agent-1"), keys: Object.keys(secretValues) },
    },
    homeDir: runDirectory.home,
    sharedVolume: { claimName: "paperclip-data", mounts: agentClaimMounts({ claimName: "paperclip-data", mountPath: "/paperclip" }, runDirectory, workspace) },
    timeoutSec: 1800,
    graceSec: 15,
    ttlSecondsAfterFinished: 3600,
    runAsUser: 1000,
    runAsGroup: 1000,
    ...overrides,
  };
}

function podSpec(manifest: ReturnType<typeof buildJobManifest>): V1PodSpec {
  const spec = manifest.spec?.template.spec;
  if (spec === undefined) throw new Error("no pod spec");
  return spec;
}

function container(manifest: ReturnType<typeof buildJobManifest>): V1Container {
  const first = podSpec(manifest).containers[0];
  if (first === undefined) throw new Error("no container");
  return first;
}

describe("buildJobManifest", () => {
  it("builds the Job spec DESIGN §3.6 describes", () => {
    const manifest = buildJobManifest(input());
    expect(manifest.apiVersion).toBe("batch/v1");
    expect(manifest.kind).toBe("Job");
    expect(manifest.metadata).toEqual({ name, namespace: "agents", labels, annotations: buildRunAnnotations(run) });
    expect(manifest.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 1800, ttlSecondsAfterFinished: 3600 });
    expect(manifest.spec?.template.metadata).toEqual({ labels, annotations: buildRunAnnotations(run) });
    const spec = podSpec(manifest);
    expect(spec).toMatchObject({
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 15,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
      imagePullSecrets: [{ name: "regcred" }],
      volumes: [
        { name: "paperclip-shared", persistentVolumeClaim: { claimName: "paperclip-data" } },
        { name: "tmp", emptyDir: {} },
      ],
    });
    expect(spec.serviceAccountName).toBeUndefined();
    expect(spec.nodeSelector).toBeUndefined();
    expect(spec.tolerations).toBeUndefined();
    const agent = container(manifest);
    expect(agent).toMatchObject({
      name: "claude",
      image: "ghcr.io/example/claude-code:1.0",
      imagePullPolicy: "IfNotPresent",
      command: input().command.map((arg) => arg.replaceAll("$", "$$$$")),
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      // Only the run's input (read-only), its output, HOME and the workspace: never the whole claim.
      volumeMounts: [
        { name: "tmp", mountPath: "/tmp" },
        { name: "paperclip-shared", mountPath: workspace, subPath: "instances/default/workspaces/agent-1" },
        { name: "paperclip-shared", mountPath: runDirectory.home, subPath: "instances/default/data/k8s-runs/co-1/agent-1/.home" },
        { name: "paperclip-shared", mountPath: runDirectory.input, subPath: "instances/default/data/k8s-runs/co-1/agent-1/run-1/input", readOnly: true },
        { name: "paperclip-shared", mountPath: runDirectory.output, subPath: "instances/default/data/k8s-runs/co-1/agent-1/run-1/output" },
      ],
      terminationMessagePolicy: "File",
    });
    expect(agent.envFrom).toBeUndefined();
  });

  it("escapes every $ so Kubernetes' $(VAR) expansion leaves the shell text and arguments as written", () => {
    const manifest = buildJobManifest({ ...input(), command: ["sh", "-c", 'echo "$1" $(HOME) $$', "a$(PATH)b"] });
    expect(container(manifest).command).toEqual(["sh", "-c", 'echo "$$1" $$(HOME) $$$$', "a$$(PATH)b"]);
  });

  it("keeps every secret out of the serialized manifest", () => {
    const serialized = JSON.stringify(buildJobManifest(input()));
    for (const value of [...Object.values(secretValues), "postgres://secret-db"]) {
      expect(serialized).not.toContain(value);
      expect(serialized).not.toContain(Buffer.from(value).toString("base64"));
    }
    for (const encoded of Object.values(secret.data ?? {})) expect(serialized).not.toContain(encoded);
    expect(serialized).not.toContain("DATABASE_URL");
  });

  it("gives one env entry per name: references < plain < Secret keys, HOME set", () => {
    const env = container(buildJobManifest(input())).env ?? [];
    const names = env.map((entry) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    const byName = new Map(env.map((entry) => [entry.name, entry]));
    expect(byName.get("OPENAI_API_KEY")).toEqual({ name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "llm-keys", key: "openai" } } });
    expect(byName.get("PAPERCLIP_RUN_ID")).toEqual({ name: "PAPERCLIP_RUN_ID", value: "run-1" });
    expect(byName.get("HOME")).toEqual({ name: "HOME", value: input().homeDir });
    const secretName = runSecretNameFor("agent-1");
    for (const key of ["ANTHROPIC_API_KEY", "MY_CONFIG_TOKEN", "PAPERCLIP_API_KEY"]) {
      expect(byName.get(key)).toEqual({ name: key, valueFrom: { secretKeyRef: { name: secretName, key } } });
    }
  });

  it("omits the deadline for timeoutSec 0 and rounds fractional seconds up", () => {
    const manifest = buildJobManifest(input({ timeoutSec: 0, graceSec: 2.5, ttlSecondsAfterFinished: undefined }));
    expect(manifest.spec?.activeDeadlineSeconds).toBeUndefined();
    expect(manifest.spec?.ttlSecondsAfterFinished).toBeUndefined();
    expect(podSpec(manifest).terminationGracePeriodSeconds).toBe(3);
    expect(buildJobManifest(input({ timeoutSec: 0.2 })).spec?.activeDeadlineSeconds).toBe(1);
  });

  it("passes scheduling, identity and DNS settings through", () => {
    const manifest = buildJobManifest(
      input({
        imagePullPolicy: undefined,
        imagePullSecrets: [],
        resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
        nodeSelector: { "kubernetes.io/arch": "amd64" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "agents", effect: "NoSchedule" }],
        serviceAccountName: "paperclip-agent",
        fsGroup: 2000,
        dnsPolicy: "None",
        dnsConfig: { nameservers: ["10.0.0.10"], searches: ["svc.cluster.local"] },
        // The server mounts only the claim's `instances` directory at /paperclip/instances.
        sharedVolume: {
          claimName: "paperclip-data",
          mounts: agentClaimMounts({ claimName: "paperclip-data", mountPath: "/paperclip/instances", subPath: "pc/instances" }, runDirectory, workspace),
        },
        env: { plain: {}, references: [], envFrom: [{ secretRef: { name: "agent-credentials" } }], secret: null },
      }),
    );
    const spec = podSpec(manifest);
    expect(spec).toMatchObject({
      nodeSelector: { "kubernetes.io/arch": "amd64" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "agents", effect: "NoSchedule" }],
      serviceAccountName: "paperclip-agent",
      securityContext: { fsGroup: 2000 },
      dnsPolicy: "None",
      dnsConfig: { nameservers: ["10.0.0.10"], searches: ["svc.cluster.local"] },
    });
    expect(spec.automountServiceAccountToken).toBeUndefined();
    expect(spec.imagePullSecrets).toBeUndefined();
    const agent = container(manifest);
    expect(agent.imagePullPolicy).toBeUndefined();
    expect(agent.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } });
    expect(agent.envFrom).toEqual([{ secretRef: { name: "agent-credentials" } }]);
    expect(agent.env).toEqual([{ name: "HOME", value: input().homeDir }]);
    expect(agent.volumeMounts?.[1]).toEqual({ name: "paperclip-shared", mountPath: workspace, subPath: "pc/instances/default/workspaces/agent-1" });
  });

  it("sent as plain JSON (run-object-api.ts), the Job and the run Secret are what client-node's generated client sends", () => {
    const everySetting = input({
      resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
      nodeSelector: { "kubernetes.io/arch": "amd64" },
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }],
      serviceAccountName: "paperclip-agent",
      fsGroup: 2000,
      dnsPolicy: "None",
      dnsConfig: { nameservers: ["10.0.0.10"], searches: ["svc.cluster.local"], options: [{ name: "ndots", value: "2" }] },
    });
    const sent = [
      { object: buildJobManifest(input()), model: "V1Job" },
      { object: buildJobManifest(everySetting), model: "V1Job" },
      { object: secret, model: "V1Secret" },
    ];
    for (const { object, model } of sent) {
      // What the generated client writes on the wire, read back.
      const generated: unknown = JSON.parse(JSON.stringify(ObjectSerializer.serialize(object, model, "")));
      expect(JSON.parse(JSON.stringify(object))).toStrictEqual(generated);
    }
  });

  it("refuses input that would run as root or is malformed, naming the field", () => {
    expect(() => buildJobManifest(input({ runAsUser: 0 }))).toThrow(/runAsUser must be a positive integer \(non-root\), got 0/);
    expect(() => buildJobManifest(input({ name: "Bad_Name" }))).toThrow(/name "Bad_Name" is not a DNS-1123 label/);
    expect(() => buildJobManifest(input({ homeDir: "home" }))).toThrow(/homeDir "home" is not absolute/);
    expect(() => buildJobManifest(input({ timeoutSec: -1 }))).toThrow(/timeoutSec must be a non-negative number, got -1/);
    expect(() => buildJobManifest(input({ containerName: "Claude" }))).toThrow(/containerName/);
  });
});
