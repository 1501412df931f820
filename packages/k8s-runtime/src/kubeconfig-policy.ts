/**
 * What a `kubeconfig` from agent config may make the server do. Loading and using a kubeconfig runs code and
 * reads files on the server: an `exec` credential plugin or an `auth-provider` (gcp/azure `cmd-path`) runs a
 * program as the server's user, a `token-file` is read at load time and sent as a bearer token to whatever
 * server the kubeconfig names, and certificate files are read too. So, before client-node sees the text:
 * - `exec` and `auth-provider` are refused unless the operator enables them on the SERVER
 *   (`PAPERCLIP_K8S_ALLOW_KUBECONFIG_EXEC=true`), never by config;
 * - every file it names (`token-file`, `client-certificate`, `client-key`, `certificate-authority`) must pass
 *   the kubeconfig path policy (`server-paths.ts`), as the kubeconfig file itself does.
 * Messages name the entry (`users[0].token-file`), never a value of the kubeconfig: it holds credentials.
 */
import path from "node:path";
import { load, YAMLException } from "js-yaml";
import { ConfigForbiddenError, ConfigValueError, isPlainObject } from "./config-values.ts";
import { resolveServerPath, serverPathPolicy, type ServerPathPolicy, type ServerPathScope } from "./server-paths.ts";

/** Server env: `true` lets config kubeconfigs use `exec` and `auth-provider` credential plugins. */
export const ALLOW_KUBECONFIG_EXEC_ENV = "PAPERCLIP_K8S_ALLOW_KUBECONFIG_EXEC";

/** Kubeconfigs are a few KiB; anything near this is not one. */
export const MAX_KUBECONFIG_BYTES = 1024 * 1024;

export interface KubeconfigPolicy {
  /** The operator allowed credential plugins (server env). */
  allowPlugins: boolean;
  /** Where the kubeconfig file and the files it names may lie. */
  files: ServerPathPolicy;
}

export function kubeconfigPolicy(scope: ServerPathScope): KubeconfigPolicy {
  return { allowPlugins: scope.env[ALLOW_KUBECONFIG_EXEC_ENV] === "true", files: serverPathPolicy("kubeconfig", scope) };
}

/**
 * Kubeconfig text as data. A syntax error is reported by position only: the YAML parser's own message quotes
 * the text around the error, which may be a token.
 */
export function parseKubeconfigText(text: string): unknown {
  try {
    return load(text);
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const where = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : "";
    throw new ConfigValueError("kubeconfig", `config.kubeconfig is not valid YAML or JSON${where}: ${error.reason}`);
  }
}

const USER_FILES = ["token-file", "client-certificate", "client-key"] as const;
const CLUSTER_FILES = ["certificate-authority"] as const;

function entries(document: Record<string, unknown>, list: string, field: string): Array<[string, Record<string, unknown>]> {
  const items = document[list];
  if (!Array.isArray(items)) return [];
  return items.flatMap((item: unknown, index) => {
    const inner = isPlainObject(item) ? item[field] : undefined;
    return isPlainObject(inner) ? [[`${list}[${index}].${field}`, inner] as [string, Record<string, unknown>]] : [];
  });
}

/**
 * Throws `ConfigForbiddenError` when the kubeconfig `document` (parsed text) uses a credential plugin the policy
 * does not allow or names a file outside the policy's roots; relative file names count from `baseDir` (the
 * kubeconfig file's directory, else the server's working directory, as client-node resolves them).
 */
export function checkKubeconfig(document: unknown, policy: KubeconfigPolicy, baseDir: string): void {
  if (!isPlainObject(document)) throw new ConfigValueError("kubeconfig", "config.kubeconfig is not a kubeconfig (a YAML or JSON object)");
  const refuse = (problem: string): never => {
    throw new ConfigForbiddenError("kubeconfig", `config.kubeconfig is refused: ${problem}`);
  };
  const checkFile = (where: string, value: unknown): void => {
    if (value === undefined || value === null || value === "") return;
    if (typeof value !== "string") return refuse(`${where} is not a file name`);
    try {
      resolveServerPath(policy.files, "kubeconfig", path.resolve(baseDir, value), { shownAs: where });
    } catch (error) {
      // A file that does not exist is left to client-node's own error; only refusals matter here.
      if (error instanceof ConfigForbiddenError) throw error;
    }
  };
  for (const [where, user] of entries(document, "users", "user")) {
    for (const plugin of ["exec", "auth-provider"]) {
      if (user[plugin] !== undefined && user[plugin] !== null && !policy.allowPlugins) {
        refuse(`${where} uses an ${plugin} credential plugin, which would run a program on the Paperclip server; the operator can allow plugins with ${ALLOW_KUBECONFIG_EXEC_ENV}=true on the server`);
      }
    }
    for (const field of USER_FILES) checkFile(`${where}.${field}`, user[field]);
  }
  for (const [where, cluster] of entries(document, "clusters", "cluster")) {
    for (const field of CLUSTER_FILES) checkFile(`${where}.${field}`, cluster[field]);
  }
}
