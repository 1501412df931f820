import { describe, expect, it } from "vitest";
import { runtimeConfigFields, runtimeConfigurationDoc } from "./config-doc.ts";
import { splitShellWords } from "./config-values.ts";
import { unknownConfigKeys, unknownKeysWarning } from "./config-keys.ts";
import { ALLOW_LOOPBACK_API_URL_ENV, isLoopbackUrl, RUNTIME_CONFIG_DEFAULTS, parseRuntimeConfig, type RuntimeConfig } from "./config.ts";

const env = { HOME: "/home/paperclip", PAPERCLIP_HOME: "/paperclip" };

function parse(raw: Record<string, unknown>): RuntimeConfig {
  const result = parseRuntimeConfig(raw, env);
  if (!result.ok) throw new Error(`unexpected config error: ${result.message}`);
  return result.config;
}

function refuse(raw: Record<string, unknown>): { key: string; message: string } {
  const result = parseRuntimeConfig(raw, env);
  if (result.ok) throw new Error(`expected a config error for ${JSON.stringify(raw)}`);
  return { key: result.key, message: result.message };
}

describe("parseRuntimeConfig defaults", () => {
  it("applies defaults and ignores unknown keys", () => {
    const config = parse({ maxTurnsPerRun: 5, variant: "high", somethingElse: { deep: true } });
    expect(config).toEqual({
      namespace: undefined,
      image: undefined,
      imagePullPolicy: undefined,
      imagePullSecrets: [],
      kubeconfig: undefined,
      serviceAccountName: undefined,
      model: undefined,
      extraArgs: [],
      env: {},
      timeoutSec: 0,
      graceSec: 15,
      retainJobs: false,
      reattachOrphanedJobs: true,
      ttlSecondsAfterFinished: 3600,
      resources: undefined,
      nodeSelector: {},
      labels: {},
      tolerations: [],
      cwd: undefined,
      promptTemplate: undefined,
      bootstrapPromptTemplate: undefined,
      instructionsFilePath: undefined,
      dangerouslySkipPermissions: true,
      inheritEnv: [],
      scheduleTimeoutSec: 300,
      startupTimeoutSec: 600,
      imagePullGraceSec: 60,
      keepaliveSec: 30,
      runAsUser: undefined,
      runAsGroup: undefined,
      fsGroup: undefined,
      sharedVolume: undefined,
      instanceRoot: "/paperclip/instances/default",
      paperclipApiUrl: undefined,
      retainRunFilesOnFailureSec: undefined,
    });
  });

  it("treats null and blank text as not set", () => {
    const config = parse({ graceSec: "", timeoutSec: null, image: "   ", retainJobs: "" });
    expect(config.graceSec).toBe(RUNTIME_CONFIG_DEFAULTS.graceSec);
    expect(config.timeoutSec).toBe(0);
    expect(config.image).toBeUndefined();
    expect(config.retainJobs).toBe(false);
  });

  it("uses PAPERCLIP_INSTANCE_ID for the default instance root and refuses a bad one", () => {
    const result = parseRuntimeConfig({}, { ...env, PAPERCLIP_INSTANCE_ID: "prod" });
    expect(result.ok && result.config.instanceRoot).toBe("/paperclip/instances/prod");
    const bad = parseRuntimeConfig({}, { ...env, PAPERCLIP_INSTANCE_ID: "../x" });
    expect(bad).toMatchObject({ ok: false, key: "instanceRoot" });
  });
});

describe("numbers and booleans", () => {
  it.each([
    ["timeoutSec", 0, 0],
    ["timeoutSec", "1800", 1800],
    ["graceSec", 2.5, 2.5],
    ["ttlSecondsAfterFinished", "0", 0],
    ["scheduleTimeoutSec", "60", 60],
    ["startupTimeoutSec", 30, 30],
    ["imagePullGraceSec", 0, 0],
    ["keepaliveSec", "5", 5],
    ["retainRunFilesOnFailureSec", 86400, 86400],
    ["runAsUser", "1001", 1001],
    ["runAsGroup", 0, 0],
    ["fsGroup", 2000, 2000],
  ] as const)("%s accepts %j", (key, value, expected) => {
    expect(parse({ [key]: value })[key]).toBe(expected);
  });

  it.each([
    ["timeoutSec", -5, "config.timeoutSec must be a non-negative number up to 2147483647, got -5"],
    ["timeoutSec", "soon", 'config.timeoutSec must be a non-negative number up to 2147483647, got "soon"'],
    ["graceSec", true, "config.graceSec must be a non-negative number up to 2147483647, got true"],
    ["graceSec", Number.POSITIVE_INFINITY, "config.graceSec must be a non-negative number"],
    ["ttlSecondsAfterFinished", 1.5, "config.ttlSecondsAfterFinished must be a non-negative integer up to 2147483647, got 1.5"],
    ["scheduleTimeoutSec", 0, "config.scheduleTimeoutSec must be a positive number of seconds up to 2147483, got 0"],
    ["startupTimeoutSec", "-1", 'config.startupTimeoutSec must be a non-negative number up to 2147483, got "-1"'],
    ["keepaliveSec", "0", 'config.keepaliveSec must be a positive number of seconds up to 2147483, got "0"'],
    ["imagePullGraceSec", [], "config.imagePullGraceSec must be a non-negative number up to 2147483, got []"],
    ["retainRunFilesOnFailureSec", -1, "config.retainRunFilesOnFailureSec must be a non-negative number up to 2147483647, got -1"],
    ["runAsUser", 0, "config.runAsUser must not be 0: agent pods run as a non-root user"],
    ["runAsUser", "1000.5", 'config.runAsUser must be a non-negative integer up to 2147483647, got "1000.5"'],
    ["runAsGroup", -1, "config.runAsGroup must be a non-negative integer up to 2147483647, got -1"],
    ["fsGroup", "x", 'config.fsGroup must be a non-negative integer up to 2147483647, got "x"'],
  ])("%s refuses %j", (key, value, message) => {
    const error = refuse({ [key]: value });
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
  });

  it.each([
    ["timeoutSec", 1e20, "config.timeoutSec must be a non-negative number up to 2147483647, got 100000000000000000000"],
    ["timeoutSec", Number.NaN, "config.timeoutSec must be a non-negative number up to 2147483647"],
    ["graceSec", "1e12", 'config.graceSec must be a non-negative number up to 2147483647, got "1e12"'],
    ["ttlSecondsAfterFinished", 2 ** 31, "config.ttlSecondsAfterFinished must be a non-negative integer up to 2147483647, got 2147483648"],
    ["runAsUser", 2 ** 31, "config.runAsUser must be a non-negative integer up to 2147483647, got 2147483648"],
    ["runAsGroup", 2 ** 32, "config.runAsGroup must be a non-negative integer up to 2147483647"],
    ["fsGroup", -1, "config.fsGroup must be a non-negative integer up to 2147483647"],
    // Waited for with Node timers, whose delay is a 32-bit count of milliseconds.
    ["startupTimeoutSec", 2147484, "config.startupTimeoutSec must be a non-negative number up to 2147483, got 2147484"],
    ["keepaliveSec", 1e9, "config.keepaliveSec must be a non-negative number up to 2147483"],
  ])("%s refuses %j, naming the allowed range", (key, value, message) => {
    const error = refuse({ [key]: value });
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
  });

  it("accepts the largest values Kubernetes and the timers take", () => {
    const config = parse({ timeoutSec: 2 ** 31 - 1, runAsUser: 2 ** 31 - 1, ttlSecondsAfterFinished: 2 ** 31 - 1, startupTimeoutSec: 2147483 });
    expect([config.timeoutSec, config.runAsUser, config.ttlSecondsAfterFinished, config.startupTimeoutSec]).toEqual([2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 2147483]);
  });

  it.each(["retainJobs", "reattachOrphanedJobs", "dangerouslySkipPermissions"] as const)("%s accepts booleans and their text", (key) => {
    expect(parse({ [key]: true })[key]).toBe(true);
    expect(parse({ [key]: "false" })[key]).toBe(false);
    expect(parse({ [key]: " TRUE " })[key]).toBe(true);
    expect(refuse({ [key]: "yes" })).toEqual({ key, message: `config.${key} must be true or false, got "yes"` });
    expect(refuse({ [key]: 1 })).toEqual({ key, message: `config.${key} must be true or false, got 1` });
  });
});

describe("names and strings", () => {
  it("accepts valid names and trims text", () => {
    const config = parse({
      namespace: " paperclip-agents ",
      image: "ghcr.io/example/claude:1.0",
      serviceAccountName: "agent.runner",
      model: " claude-sonnet-4-5 ",
      imagePullPolicy: "Never",
      promptTemplate: "Do {{task}}",
      bootstrapPromptTemplate: "Hello",
      instructionsFilePath: "/paperclip/agents/a/AGENTS.md",
    });
    expect(config).toMatchObject({
      namespace: "paperclip-agents",
      image: "ghcr.io/example/claude:1.0",
      serviceAccountName: "agent.runner",
      model: "claude-sonnet-4-5",
      imagePullPolicy: "Never",
      promptTemplate: "Do {{task}}",
      bootstrapPromptTemplate: "Hello",
      instructionsFilePath: "/paperclip/agents/a/AGENTS.md",
    });
  });

  it.each([
    ["namespace", "Agents", 'config.namespace must be a namespace name (lower case DNS label), got "Agents"'],
    ["namespace", 5, "config.namespace must be a string, got 5"],
    ["image", "my image", 'config.image must be an image reference without spaces, got "my image"'],
    ["imagePullPolicy", "always", 'config.imagePullPolicy must be Always, IfNotPresent or Never, got "always"'],
    ["serviceAccountName", "Agent_SA", 'config.serviceAccountName must be a service account name (lower case DNS subdomain), got "Agent_SA"'],
    ["model", ["a"], 'config.model must be a string, got ["a"]'],
    ["cwd", "work", 'config.cwd must be an absolute path, got "work"'],
    ["instanceRoot", "./data", 'config.instanceRoot must be an absolute path, got "./data"'],
    ["paperclipApiUrl", "paperclip:3100", 'config.paperclipApiUrl must be an http(s) URL, got "paperclip:3100"'],
    ["paperclipApiUrl", "ftp://x", 'config.paperclipApiUrl must be an http(s) URL, got "ftp://x"'],
    ["kubeconfig", { clusters: [] }, "config.kubeconfig must be a file path or kubeconfig YAML/JSON text, got an object (not shown: it may hold a secret)"],
  ])("%s refuses %j", (key, value, message) => {
    expect(refuse({ [key]: value })).toEqual({ key, message });
  });

  it("normalizes paths and URLs", () => {
    const config = parse({ cwd: "/work//repo/", instanceRoot: "/paperclip/instances/default/", paperclipApiUrl: "http://paperclip.svc:3100/" });
    expect(config.cwd).toBe("/work/repo");
    expect(config.instanceRoot).toBe("/paperclip/instances/default");
    expect(config.paperclipApiUrl).toBe("http://paperclip.svc:3100");
  });

  it("refuses an instanceRoot other than Paperclip's own: agent config may not move where run files go", () => {
    const result = parseRuntimeConfig({ instanceRoot: "/etc" }, env);
    expect(result).toMatchObject({ ok: false, key: "instanceRoot", errorCode: "k8s_config_forbidden" });
    if (!result.ok) expect(result.message).toMatch(/differs from Paperclip's own instance root \/paperclip\/instances\/default/);
  });

  it("keeps the kubeconfig setting as given (cluster access tells a path from inline text)", () => {
    expect(parse({ kubeconfig: "/etc/kube/config" }).kubeconfig).toBe("/etc/kube/config");
  });
});

describe("lists", () => {
  it("reads imagePullSecrets as a list, text or Kubernetes' own shape", () => {
    expect(parse({ imagePullSecrets: ["regcred", "other"] }).imagePullSecrets).toEqual(["regcred", "other"]);
    expect(parse({ imagePullSecrets: "regcred, other" }).imagePullSecrets).toEqual(["regcred", "other"]);
    expect(parse({ imagePullSecrets: [{ name: "regcred" }] }).imagePullSecrets).toEqual(["regcred"]);
    expect(parse({ imagePullSecrets: '["regcred"]' }).imagePullSecrets).toEqual(["regcred"]);
    expect(refuse({ imagePullSecrets: ["Reg_Cred"] })).toEqual({
      key: "imagePullSecrets",
      message: 'config.imagePullSecrets[0] must be a Secret name (lower case DNS subdomain), got "Reg_Cred"',
    });
    expect(refuse({ imagePullSecrets: [3] }).message).toBe("config.imagePullSecrets[0] must be a non-empty string, got 3");
    expect(refuse({ imagePullSecrets: { name: "x" } }).message).toContain("config.imagePullSecrets must be a list of strings");
  });

  it("reads extraArgs as a list or a shell-like command line", () => {
    expect(parse({ extraArgs: ["--verbose", "a b"] }).extraArgs).toEqual(["--verbose", "a b"]);
    expect(parse({ extraArgs: `--append-system-prompt "be brief" --name 'it''s' a\\ b` }).extraArgs).toEqual([
      "--append-system-prompt", "be brief", "--name", "its", "a b",
    ]);
    expect(refuse({ extraArgs: [1] })).toEqual({ key: "extraArgs", message: "config.extraArgs[0] must be a string, got a number (not shown: it may hold a secret)" });
    expect(refuse({ extraArgs: '--x "open' }).message).toContain("config.extraArgs has an unterminated \" quote");
    expect(refuse({ extraArgs: { a: 1 } }).message).toContain("config.extraArgs must be a list of strings or a command-line string");
  });

  it("reads inheritEnv and refuses dangerous entries", () => {
    expect(parse({ inheritEnv: "MY_TOKEN, TEAM_*\nsecretRef:agent-keys" }).inheritEnv).toEqual(["MY_TOKEN", "TEAM_*", "secretRef:agent-keys"]);
    expect(parse({ inheritEnv: ["DATABASE_URL"] }).inheritEnv).toEqual(["DATABASE_URL"]);
    expect(refuse({ inheritEnv: ["*"] })).toMatchObject({ key: "inheritEnv", message: expect.stringContaining("config.inheritEnv[0] is refused") });
    expect(refuse({ inheritEnv: "OK, PAPERCLIP_AGENT_JWT_SECRET" }).message).toContain("config.inheritEnv[1] is refused: \"PAPERCLIP_AGENT_JWT_SECRET\"");
  });
});

describe("splitShellWords", () => {
  it.each([
    ["", []],
    ["  a   b  ", ["a", "b"]],
    ["''", [""]],
    ['"a \\"b\\" \\$c \\x"', ['a "b" $c \\x']],
    ["a'b'\"c\"", ["abc"]],
    ["$(rm -rf /) `x`", ["$(rm", "-rf", "/)", "`x`"]],
    ["tab\there\nnewline", ["tab", "here", "newline"]],
    ["trailing\\", ["trailing\\"]],
  ])("%j → %j", (text, words) => {
    expect(splitShellWords(text, "extraArgs")).toEqual(words);
  });
});

describe("maps", () => {
  it("reads env from objects, Paperclip bindings, JSON text and KEY=value lines", () => {
    expect(parse({ env: { A: "1", B: 2, C: { type: "plain", value: "three" } } }).env).toEqual({ A: "1", B: "2", C: "three" });
    expect(parse({ env: '{"A":"1"}' }).env).toEqual({ A: "1" });
    expect(parse({ env: "# comment\nA=1\n\nB = x=y\n" }).env).toEqual({ A: "1", B: "x=y" });
  });

  it("refuses unresolved secret bindings and bad names without showing values", () => {
    const unresolved = refuse({ env: { API_KEY: { type: "secret_ref", secretId: "sec_123" } } });
    expect(unresolved.key).toBe("env");
    expect(unresolved.message).toContain("config.env.API_KEY is a Paperclip secret reference that was not resolved");
    expect(refuse({ env: { "BAD-NAME": "super-secret" } }).message).not.toContain("super-secret");
    expect(refuse({ env: { "BAD-NAME": "x" } }).message).toContain("invalid variable name, a text of 8 characters (not shown: it may hold a secret)");
    expect(refuse({ env: { X: { value: "hidden-value" } } })).toEqual({
      key: "env",
      message: 'config.env.X must be a string or a {"type":"plain","value":…} binding',
    });
    expect(refuse({ env: "NOEQUALS" }).message).toContain("config.env line 1 must be key=value");
    expect(refuse({ env: 42 }).message).toContain("config.env must be an object, JSON text or key=value lines");
  });

  it("never shows any part of a secret-bearing value (env, kubeconfig, extraArgs) in a message", () => {
    const secret = "sk-live-4f9a8b7c6d5e";
    for (const raw of [
      { env: `{"API_KEY": "${secret}"` },
      { env: `{"API_KEY": ${secret}}` },
      { env: `${secret}` },
      { env: `API_KEY=ok\n${secret}` },
      { env: { [secret]: "x" } },
      { env: { API_KEY: [secret] } },
      { env: [secret] },
      { extraArgs: `--api-key "${secret}` },
      { extraArgs: [secret, 5] },
      { kubeconfig: { token: secret } },
    ]) {
      const error = refuse(raw);
      for (const part of [secret, secret.slice(0, 8), secret.slice(-8)]) expect(error.message, JSON.stringify(raw)).not.toContain(part);
    }
    expect(refuse({ env: `{"API_KEY": "${secret}"` }).message).toMatch(/^config\.env is not valid JSON \(at character \d+\)$/);
  });

  it("shows other bad values (they are not secrets), shortened", () => {
    expect(refuse({ labels: '{"team": ' }).message).toMatch(/^config\.labels is not valid JSON/);
    expect(refuse({ namespace: "X".repeat(200) }).message).toContain(`"${"X".repeat(79)}…`);
  });

  it("reads labels and nodeSelector from objects, JSON text and key=value lines", () => {
    expect(parse({ labels: { team: "platform", tier: 1 } }).labels).toEqual({ team: "platform", tier: "1" });
    expect(parse({ labels: "team=platform\nexample.com/cost-center = r-and-d" }).labels).toEqual({
      team: "platform",
      "example.com/cost-center": "r-and-d",
    });
    expect(parse({ nodeSelector: '{"kubernetes.io/arch":"amd64"}' }).nodeSelector).toEqual({ "kubernetes.io/arch": "amd64" });
    expect(parse({ nodeSelector: "app.kubernetes.io/part-of=agents" }).nodeSelector).toEqual({ "app.kubernetes.io/part-of": "agents" });
  });

  it.each([
    ["labels", { "paperclip.io/run-id": "x" }, 'config.labels may not set "paperclip.io/run-id": the paperclip.io/ prefix is reserved for the runtime'],
    ["labels", { "app.kubernetes.io/managed-by": "me" }, "the app.kubernetes.io/ prefix is reserved"],
    ["labels", { team: "bad value!" }, 'config.labels.team must be a label value (at most 63 letters, digits, \'-\', \'_\', \'.\', starting and ending alphanumeric), got "bad value!"'],
    ["labels", { "-team": "x" }, 'config.labels has an invalid label key "-team"'],
    ["labels", { team: { nested: 1 } }, 'config.labels.team must be a string, got {"nested":1}'],
    ["labels", '{"team": ', "config.labels is not valid JSON"],
    ["nodeSelector", { "Bad Key": "x" }, 'config.nodeSelector has an invalid label key "Bad Key"'],
    ["nodeSelector", ["a=b"], 'config.nodeSelector must be an object, JSON text or key=value lines, got ["a=b"]'],
    ["nodeSelector", "disk", 'config.nodeSelector line 1 must be key=value, got "disk"'],
  ])("%s refuses %j", (key, value, message) => {
    const error = refuse({ [key]: value });
    expect(error.key).toBe(key);
    expect(error.message).toContain(message);
  });
});

describe("paperclipApiUrl", () => {
  it.each([
    "http://127.0.0.1:3100",
    "http://127.9.8.7",
    "http://localhost:3100",
    "http://LOCALHOST.:3100/",
    "http://api.localhost",
    "http://[::1]:3100",
    "http://[0:0:0:0:0:0:0:1]",
    "http://[::ffff:127.0.0.1]",
    "http://0.0.0.0:3100",
    "http://2130706433/",
    "http://0x7f.1/",
  ])("refuses the loopback address %s: agent pods cannot reach it", (url) => {
    const error = refuse({ paperclipApiUrl: url });
    expect(error.key).toBe("paperclipApiUrl");
    expect(error.message).toMatch(/is a loopback address: agent pods run on other hosts and cannot reach it/);
  });

  it.each(["http://paperclip.paperclip.svc:3100", "https://10.0.0.5", "http://127.0.0.1.example.com", "http://[fd00::1]"])("accepts %s", (url) => {
    expect(parse({ paperclipApiUrl: url }).paperclipApiUrl).toBe(url);
  });

  it("accepts a loopback address when the server env allows it (the simulated cluster's pods are local processes)", () => {
    const result = parseRuntimeConfig({ paperclipApiUrl: "http://127.0.0.1:3100" }, { ...env, [ALLOW_LOOPBACK_API_URL_ENV]: "true" });
    expect(result.ok && result.config.paperclipApiUrl).toBe("http://127.0.0.1:3100");
    expect(isLoopbackUrl("not a url")).toBe(false);
  });
});

describe("unknown keys", () => {
  const agentFields = [{ key: "effort" }, { key: "maxTurnsPerRun" }];

  it("names keys nobody knows; the runtime's, the agent's and Paperclip's own are known", () => {
    const config = {
      timeoutSecs: 5,
      Namespace: "x",
      namespace: "y",
      effort: "high",
      maxTurnsPerRun: 3,
      model: "m",
      promptTemplate: "p",
      instructionsBundleMode: "managed",
      instructionsRootPath: "/r",
      instructionsEntryFile: "AGENTS.md",
      paperclipRuntimeSkills: [],
      paperclipSkillSync: {},
      paperclipFutureKey: 1,
      paperclipper: 1,
    };
    expect(unknownConfigKeys(config, agentFields)).toEqual(["timeoutSecs", "Namespace", "paperclipper"]);
    expect(unknownKeysWarning(["timeoutSecs"])).toBe('Unknown config key ignored (misspelt?): "timeoutSecs".');
    expect(unknownKeysWarning([])).toBeNull();
  });

  it("keeps the warning short whatever the keys (they are agent-written text)", () => {
    const keys = Array.from({ length: 50 }, (_, index) => `${"k".repeat(10_000)}${index}`);
    const warning = unknownKeysWarning(keys) ?? "";
    expect(warning.length).toBeLessThan(1000);
    expect(warning).toContain("and 40 more");
  });

  it("every key the parser reads is a known key", () => {
    const read = new Set<string>();
    const recording = new Proxy({}, { get: (_, key) => (typeof key === "string" && read.add(key), undefined) });
    parseRuntimeConfig(recording, env);
    expect(read.size).toBeGreaterThan(20);
    expect(unknownConfigKeys(Object.fromEntries([...read].map((key) => [key, 1])), [])).toEqual([]);
  });
});

describe("resources", () => {
  it("accepts requests and limits as an object or JSON text", () => {
    const resources = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: 2, memory: "2Gi", "nvidia.com/gpu": "1" } };
    expect(parse({ resources }).resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { cpu: "2", memory: "2Gi", "nvidia.com/gpu": "1" },
    });
    expect(parse({ resources: JSON.stringify({ limits: { memory: "512Mi" } }) }).resources).toEqual({ limits: { memory: "512Mi" } });
  });

  it.each([
    [{ requests: { cpu: "half" } }, 'config.resources.requests.cpu must be a Kubernetes quantity such as "500m", "2", "512Mi" or "1Gi", got "half"'],
    [{ requests: { memory: "-1Gi" } }, 'config.resources.requests.memory must be a Kubernetes quantity'],
    [{ limits: { memory: "1gb" } }, 'config.resources.limits.memory must be a Kubernetes quantity'],
    [{ limit: { memory: "1Gi" } }, 'config.resources must be an object with only requests and limits, got "limit"'],
    [{ requests: "1Gi" }, "config.resources.requests must be an object of quantities"],
    [{ requests: { memory: "2Gi" }, limits: { memory: "1Gi" } }, "config.resources.requests.memory (2Gi) must not exceed limits.memory (1Gi)"],
    [{ requests: { "bad name!": "1" } }, "config.resources.requests has an invalid resource name"],
    ["cpu=1", 'config.resources must be an object with requests and/or limits, got "cpu=1"'],
    [{ limits: { memory: "1e20" } }, 'config.resources.limits.memory must be a quantity of at most 9007199254740991 (Kubernetes counts in 64-bit thousandths), got "1e20"'],
    [{ requests: { cpu: "10E" } }, "config.resources.requests.cpu must be a quantity of at most 9007199254740991"],
  ])("refuses %j", (resources, message) => {
    const error = refuse({ resources });
    expect(error.key).toBe("resources");
    expect(error.message).toContain(message);
  });
});

describe("tolerations", () => {
  it("accepts a list or JSON text of one", () => {
    const tolerations = [
      { key: "dedicated", operator: "Equal", value: "agents", effect: "NoSchedule" },
      { operator: "Exists" },
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "gpu", value: "true" },
    ];
    expect(parse({ tolerations }).tolerations).toEqual([
      tolerations[0],
      { operator: "Exists" },
      tolerations[2],
      { key: "gpu", operator: "Equal", value: "true" },
    ]);
    expect(parse({ tolerations: JSON.stringify([tolerations[0]]) }).tolerations).toEqual([tolerations[0]]);
  });

  it.each([
    [{ key: "a", operator: "Equal" }, "config.tolerations must be a list of tolerations (or JSON text of one)"],
    ['{"key":"a"}', "config.tolerations must be a list of tolerations (or JSON text of one)"],
    ["dedicated=agents", "config.tolerations must be a list of tolerations"],
    [["a"], 'config.tolerations[0] must be a toleration object, got "a"'],
    [[{ key: "a", operator: "In" }], 'config.tolerations[0].operator must be Exists or Equal, got "In"'],
    [[{ key: "a", effect: "NoRun" }], 'config.tolerations[0].effect must be NoSchedule, PreferNoSchedule or NoExecute, got "NoRun"'],
    [[{ value: "x" }], 'config.tolerations[0].operator must be Exists when key is empty, got "Equal"'],
    [[{ key: "a", operator: "Exists", value: "x" }], 'config.tolerations[0].value must be empty when operator is Exists, got "x"'],
    [[{ key: "a", tolerationSeconds: 30, effect: "NoSchedule" }], 'config.tolerations[0].effect must be NoExecute when tolerationSeconds is set, got "NoSchedule"'],
    [[{ key: "a", effect: "NoExecute", tolerationSeconds: "30" }], 'config.tolerations[0].tolerationSeconds must be an integer (int64), got "30"'],
    [[{ key: "a", effect: "NoExecute", tolerationSeconds: 1e20 }], "config.tolerations[0].tolerationSeconds must be an integer (int64), got 100000000000000000000"],
    [[{ key: "a", Effect: "NoSchedule" }], "config.tolerations[0] must be a toleration with only key, operator, value, effect, tolerationSeconds"],
    [[{ key: "bad key" }], "config.tolerations[0].key is invalid"],
  ])("refuses %j", (tolerations, message) => {
    const error = refuse({ tolerations });
    expect(error.key).toBe("tolerations");
    expect(error.message).toContain(message);
  });
});

describe("shared volume", () => {
  it("takes claim and mount path together", () => {
    expect(parse({ sharedVolumeClaim: "paperclip-data", sharedVolumeMountPath: "/paperclip/" }).sharedVolume).toEqual({
      claimName: "paperclip-data",
      mountPath: "/paperclip",
    });
    expect(refuse({ sharedVolumeClaim: "paperclip-data" })).toEqual({
      key: "sharedVolumeMountPath",
      message: "config.sharedVolumeMountPath must be set when sharedVolumeClaim is",
    });
    expect(refuse({ sharedVolumeMountPath: "/paperclip" }).key).toBe("sharedVolumeClaim");
    expect(refuse({ sharedVolumeClaim: "Data", sharedVolumeMountPath: "/p" }).message).toContain("config.sharedVolumeClaim must be a PersistentVolumeClaim name");
    expect(refuse({ sharedVolumeClaim: "data", sharedVolumeMountPath: "p" }).message).toBe('config.sharedVolumeMountPath must be an absolute path, got "p"');
  });
});

describe("config documentation", () => {
  it("documents every runtime key in the form and the markdown, with defaults", () => {
    const keys = runtimeConfigFields.map((field) => field.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of ["namespace", "image", "kubeconfig", "inheritEnv", "runAsUser", "sharedVolumeClaim", "timeoutSec", "tolerations"]) {
      expect(keys).toContain(key);
    }
    for (const field of runtimeConfigFields) {
      expect(field.group).toBe("Kubernetes");
      expect(field.hint?.length ?? 0).toBeGreaterThan(10);
      expect(runtimeConfigurationDoc).toContain(`| \`${field.key}\` |`);
      // Every documented key is one the parser reads.
      expect(() => parseRuntimeConfig({ [field.key]: { "not-a-valid": "value" } }, env)).not.toThrow();
    }
    expect(runtimeConfigFields.find((field) => field.key === "graceSec")?.default).toBe(15);
    expect(runtimeConfigurationDoc).toContain("| `keepaliveSec` | 30 |");
    expect(runtimeConfigurationDoc).toContain("`ANTHROPIC_*`");
  });

  it("reports a bad value for each documented key as that key", () => {
    for (const field of runtimeConfigFields) {
      const result = parseRuntimeConfig({ [field.key]: { "not-a-valid": "value" } }, env);
      // Map-valued keys accept objects; every other key refuses this one and names itself.
      if (field.key === "nodeSelector" || field.key === "labels") continue;
      expect(result.ok, field.key).toBe(false);
      if (!result.ok) expect(result.key).toBe(field.key);
    }
  });
});
