/**
 * The five API calls every run makes, as plain JSON (`kube-json.ts`): create its Secret (the agent's lock), create
 * its Job, patch the Secret's owner, delete the Job and delete the Secret. Each throws what the generated client's
 * call of the same name throws; the answers of the creates are read for the created object's identity only.
 */
import type { KubeConfig, V1Job, V1Secret } from "@kubernetes/client-node";
import { KubeJson } from "./kube-json.ts";

/** What the runtime reads of an object it created: which object it is, and its version. */
export interface CreatedObject {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string };
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

/** `object`'s identity (an API answer, parsed JSON or a generated client's model); throws naming a field it lacks. */
export function createdObjectOf(object: unknown, what: string): CreatedObject {
  const metadata = field(object, "metadata");
  const text = (name: string): string => {
    const value = field(metadata, name);
    if (typeof value !== "string" || value === "") throw new Error(`${what}: the API server's answer has no metadata.${name}`);
    return value;
  };
  return { metadata: { name: text("name"), namespace: text("namespace"), uid: text("uid"), resourceVersion: text("resourceVersion") } };
}

const segment = encodeURIComponent;
const secretsOf = (namespace: string) => `/api/v1/namespaces/${segment(namespace)}/secrets`;
const jobsOf = (namespace: string) => `/apis/batch/v1/namespaces/${segment(namespace)}/jobs`;

export class RunObjectApi {
  private readonly json: KubeJson;

  constructor(kubeConfig: KubeConfig, server: string) {
    this.json = new KubeJson(kubeConfig, server);
  }

  async createSecret(namespace: string, secret: V1Secret): Promise<CreatedObject> {
    const created = await this.json.call({ method: "POST", path: secretsOf(namespace), body: secret });
    return createdObjectOf(created, `create Secret ${namespace}/${secret.metadata?.name ?? ""}`);
  }

  async createJob(namespace: string, job: V1Job): Promise<CreatedObject> {
    const created = await this.json.call({ method: "POST", path: jobsOf(namespace), body: job });
    return createdObjectOf(created, `create Job ${namespace}/${job.metadata?.name ?? ""}`);
  }

  /** A JSON merge patch (RFC 7386). */
  mergePatchSecret(namespace: string, name: string, patch: object): Promise<void> {
    const path = `${secretsOf(namespace)}/${segment(name)}`;
    return this.json.callIgnoringAnswer({ method: "PATCH", path, body: patch, contentType: "application/merge-patch+json" });
  }

  /** Background propagation: the garbage collector deletes its pods (and the Secret it owns) after it. */
  deleteJob(namespace: string, name: string): Promise<void> {
    const path = `${jobsOf(namespace)}/${segment(name)}?propagationPolicy=Background`;
    return this.json.callIgnoringAnswer({ method: "DELETE", path });
  }

  /** Deletes the Secret only while its uid is `uid` (else 409 Conflict). */
  deleteSecret(namespace: string, name: string, uid: string): Promise<void> {
    const path = `${secretsOf(namespace)}/${segment(name)}`;
    return this.json.callIgnoringAnswer({ method: "DELETE", path, body: { preconditions: { uid } } });
  }
}
