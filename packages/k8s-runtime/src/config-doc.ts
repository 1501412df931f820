/**
 * The runtime's config keys for people: Paperclip's config form fields and the markdown reference
 * (`agentConfigurationDoc`, package README), both from one table so they cannot drift. Keys an agent documents
 * itself (model, extraArgs, prompt templates, instructions file, permissions) are left to the agent.
 */
import type { ConfigFieldSchema } from "@paperclipai/adapter-utils";
import { RUNTIME_CONFIG_DEFAULTS } from "./config.ts";
import { DEFAULT_INHERITED_ENV } from "./pod-env.ts";

interface RuntimeKeyDoc {
  key: string;
  label: string;
  type: ConfigFieldSchema["type"];
  options?: readonly string[];
  /** The default as a value (form) — omitted when the default is computed. */
  default?: unknown;
  /** The default in words, for the doc. */
  defaultText: string;
  meaning: string;
}

const d = RUNTIME_CONFIG_DEFAULTS;

const RUNTIME_KEYS: readonly RuntimeKeyDoc[] = [
  { key: "image", label: "Image", type: "text", defaultText: "the Paperclip pod's image", meaning: "Container image with the agent CLI." },
  { key: "namespace", label: "Namespace", type: "text", defaultText: "the Paperclip pod's namespace, else `default`", meaning: "Namespace of the agent's Jobs." },
  { key: "imagePullPolicy", label: "Image pull policy", type: "select", options: ["Always", "IfNotPresent", "Never"], defaultText: "Kubernetes' default", meaning: "`Always`, `IfNotPresent` or `Never`." },
  { key: "imagePullSecrets", label: "Image pull secrets", type: "text", defaultText: "none (the Paperclip pod's are always added)", meaning: "Secret names, comma-separated or a JSON list." },
  { key: "kubeconfig", label: "Kubeconfig", type: "textarea", defaultText: "in-cluster credentials, else `~/.kube/config`", meaning: "Path to a kubeconfig file, or the kubeconfig's YAML/JSON text. A path, and every file the kubeconfig names, must lie under the kubeconfig roots (see Server policy); `exec` and `auth-provider` credential plugins are refused unless the server sets `PAPERCLIP_K8S_ALLOW_KUBECONFIG_EXEC=true`." },
  { key: "serviceAccountName", label: "Service account", type: "text", defaultText: "the namespace's `default` account, with no API token mounted", meaning: "Service account of agent pods (e.g. for cloud IAM); its token is mounted." },
  { key: "env", label: "Environment", type: "textarea", defaultText: "none", meaning: "Extra env for the agent: an object, JSON text or `KEY=value` lines. Values travel in a per-run Secret, never in the Job spec." },
  { key: "inheritEnv", label: "Inherit env", type: "textarea", defaultText: "none", meaning: `Server env passed on in addition to the default allowlist (${DEFAULT_INHERITED_ENV.map((name) => `\`${name}\``).join(", ")}): names, \`PREFIX_*\` patterns, or \`secretRef:<name>\` / \`configMapRef:<name>\` to pass a whole Secret/ConfigMap. \`PAPERCLIP_*\` and \`BETTER_AUTH_*\` are never passed; the whole environment is never inherited.` },
  { key: "cwd", label: "Working directory", type: "text", defaultText: "the task's workspace, else the agent's home on the shared volume", meaning: "Absolute working directory in the pod (created if missing); put it on the shared volume to keep files between runs." },
  { key: "timeoutSec", label: "Timeout (seconds)", type: "number", default: d.timeoutSec, defaultText: `${d.timeoutSec} (no limit)`, meaning: "Run time limit (the Job's `activeDeadlineSeconds`); 0 = none." },
  { key: "graceSec", label: "Grace period (seconds)", type: "number", default: d.graceSec, defaultText: String(d.graceSec), meaning: "Time the agent gets to exit after SIGTERM (`terminationGracePeriodSeconds`)." },
  { key: "scheduleTimeoutSec", label: "Schedule timeout (seconds)", type: "number", default: d.scheduleTimeoutSec, defaultText: String(d.scheduleTimeoutSec), meaning: "Fail the run when its pod is still unscheduled after this long." },
  { key: "startupTimeoutSec", label: "Start-up timeout (seconds)", type: "number", default: d.startupTimeoutSec, defaultText: String(d.startupTimeoutSec), meaning: "Fail the run when its container is still not running after this long." },
  { key: "imagePullGraceSec", label: "Image pull grace (seconds)", type: "number", default: d.imagePullGraceSec, defaultText: String(d.imagePullGraceSec), meaning: "How long `ErrImagePull`/`ImagePullBackOff` may last before the run fails." },
  { key: "keepaliveSec", label: "Keepalive (seconds)", type: "number", default: d.keepaliveSec, defaultText: String(d.keepaliveSec), meaning: "Cadence of keepalive lines and cancellation checks while the agent is silent." },
  { key: "resources", label: "Resources", type: "textarea", defaultText: "none", meaning: "`{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"},\"limits\":{\"memory\":\"2Gi\"}}` (object or JSON text; Kubernetes quantities)." },
  { key: "nodeSelector", label: "Node selector", type: "textarea", defaultText: "none", meaning: "Node labels: an object, JSON text or `key=value` lines." },
  { key: "tolerations", label: "Tolerations", type: "textarea", defaultText: "none", meaning: "A list of tolerations (or JSON text of one): `[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"agents\",\"effect\":\"NoSchedule\"}]`." },
  { key: "labels", label: "Labels", type: "textarea", defaultText: "none", meaning: "Extra labels for Jobs and pods: an object, JSON text or `key=value` lines. `paperclip.io/` and `app.kubernetes.io/` are reserved." },
  { key: "runAsUser", label: "Run as user", type: "number", defaultText: "the Paperclip pod's user, else 1000", meaning: "UID of the agent container; 0 is refused (agent pods run non-root)." },
  { key: "runAsGroup", label: "Run as group", type: "number", defaultText: "the Paperclip pod's group, else the user id", meaning: "GID of the agent container." },
  { key: "fsGroup", label: "fsGroup", type: "number", defaultText: "the Paperclip pod's, else none", meaning: "Supplementary group that owns the pod's volumes." },
  { key: "sharedVolumeClaim", label: "Shared volume claim", type: "text", defaultText: "discovered from the Paperclip pod, else the server's `PAPERCLIP_K8S_SHARED_VOLUME_CLAIM`", meaning: "ReadWriteMany PVC holding Paperclip's instance root. The server's setting: agent config may only repeat it (a different value fails with `k8s_config_forbidden`); it is taken from config only when the server has none." },
  { key: "sharedVolumeMountPath", label: "Shared volume mount path", type: "text", defaultText: "discovered from the Paperclip pod, else the server's `PAPERCLIP_K8S_SHARED_VOLUME_MOUNT_PATH`", meaning: "Where that PVC is mounted on the Paperclip server; agent pods mount parts of it at the same paths. The server's setting, like `sharedVolumeClaim`." },
  { key: "instanceRoot", label: "Instance root", type: "text", defaultText: "`$PAPERCLIP_HOME/instances/<id>`", meaning: "Paperclip's instance root; run directories live under `<instanceRoot>/data/k8s-runs/`. Always Paperclip's own: a different value fails with `k8s_config_forbidden`." },
  { key: "paperclipApiUrl", label: "Paperclip API URL for pods", type: "text", defaultText: "the server's `PAPERCLIP_API_URL`", meaning: "URL agent pods use to reach Paperclip. A loopback address (`localhost`, 127.x, `::1`) is refused unless the server sets `PAPERCLIP_K8S_ALLOW_LOOPBACK_API_URL=true` (only where agent pods share the server's host)." },
  { key: "retainJobs", label: "Keep Jobs", type: "toggle", default: d.retainJobs, defaultText: String(d.retainJobs), meaning: "Keep finished Jobs and run files for inspection instead of deleting them (Kubernetes deletes the Jobs after ttlSecondsAfterFinished; the reaper then removes run files nobody has written to for a day)." },
  { key: "ttlSecondsAfterFinished", label: "Job TTL after finish (seconds)", type: "number", default: d.ttlSecondsAfterFinished, defaultText: String(d.ttlSecondsAfterFinished), meaning: "Kubernetes deletes finished Jobs after this long (a backstop if Paperclip does not)." },
  { key: "retainRunFilesOnFailureSec", label: "Keep failed run files (seconds)", type: "number", defaultText: "0 (deleted with the Job)", meaning: "Keep a failed run's prompt and output files this long for diagnosis (its Job is still deleted); the reaper removes them after." },
  { key: "reattachOrphanedJobs", label: "Reattach orphaned Jobs", type: "toggle", default: d.reattachOrphanedJobs, defaultText: String(d.reattachOrphanedJobs), meaning: "After a Paperclip restart, continue a still-running Job of the same task and session instead of blocking." },
];

/** Config form fields for the runtime's keys (group "Kubernetes"); the factory adds the agent's own fields. */
export const runtimeConfigFields: readonly ConfigFieldSchema[] = RUNTIME_KEYS.map((doc) => ({
  key: doc.key,
  label: doc.label,
  type: doc.type,
  group: "Kubernetes",
  hint: doc.meaning,
  ...(doc.options === undefined ? {} : { options: doc.options.map((option) => ({ value: option, label: option })) }),
  ...(doc.default === undefined ? {} : { default: doc.default }),
}));

/** Markdown reference of every runtime key with its default and meaning. */
export const runtimeConfigurationDoc: string = [
  "### Kubernetes settings",
  "",
  "Values may be typed or text (`\"30\"`, `\"true\"`). A bad value fails the run before anything is created, with error code `k8s_config_invalid` naming the key and what it accepts (`k8s_config_forbidden` when it names a server file or program the server policy does not allow). Numbers must be what Kubernetes accepts: seconds, uids and gids at most 2147483647 (`scheduleTimeoutSec`, `startupTimeoutSec`, `imagePullGraceSec` and `keepaliveSec` at most 2147483), quantities at most 9007199254740991. Values of `env`, `kubeconfig` and `extraArgs` never appear in messages. Keys neither the runtime, the agent nor Paperclip knows are named as a warning in the run log and by the environment test.",
  "",
  "| Key | Default | Meaning |",
  "| --- | --- | --- |",
  ...RUNTIME_KEYS.map((doc) => `| \`${doc.key}\` | ${doc.defaultText} | ${doc.meaning.replace(/\|/g, "\\|")} |`),
].join("\n");
