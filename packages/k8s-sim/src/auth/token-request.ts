import type { HandlerResult } from "../api/handlers.ts";
import { isObject, objectAt, stringAt } from "../api/json.ts";
import type { ResourceInfo } from "../api/resources.ts";
import { resourceByPlural } from "../api/resources.ts";
import type { FieldError } from "../api/status.ts";
import { invalid, notFound } from "../api/status.ts";
import { fieldInvalid, fieldNotSupported } from "../api/validation.ts";
import type { ObjectStore } from "../store.ts";
import type { ServiceAccountTokens } from "./service-account-tokens.ts";
import { TOKEN_ISSUER } from "./service-account-tokens.ts";

const DEFAULT_SECONDS = 3600;
const MINIMUM_SECONDS = 600;

/** The TokenRequest pseudo-resource, for validation messages (`TokenRequest.authentication.k8s.io`). */
const TOKEN_REQUEST: ResourceInfo = {
  group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", plural: "tokenrequests", singular: "tokenrequest",
  namespaced: true, shortNames: [], verbs: ["create"], subresources: [],
};

/**
 * `POST serviceaccounts/<name>/token` (`kubectl create token`): a token for the account, for the
 * audiences asked (default: the API server), optionally bound to a pod so it dies with it.
 */
export function requestToken(store: ObjectStore, tokens: ServiceAccountTokens, namespace: string, name: string, body: unknown): HandlerResult {
  const account = store.get("serviceaccounts", namespace, name);
  if (!account?.metadata.uid) {
    const accounts = resourceByPlural("serviceaccounts");
    if (!accounts) throw new Error("the resource table has no serviceaccounts");
    throw notFound(accounts, name);
  }
  const spec = objectAt(isObject(body) ? body : {}, "spec") ?? {};
  const seconds = typeof spec.expirationSeconds === "number" ? spec.expirationSeconds : DEFAULT_SECONDS;
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [TOKEN_ISSUER];
  const bound = objectAt(spec, "boundObjectRef");
  const errors: FieldError[] = [];
  if (seconds < MINIMUM_SECONDS) errors.push(fieldInvalid("spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes"));
  if (bound && stringAt(bound, "kind") !== "Pod") errors.push(fieldNotSupported("spec.boundObjectRef.kind", stringAt(bound, "kind") ?? "", ["Pod"]));
  if (errors.length) throw invalid(TOKEN_REQUEST, name, errors);
  let pod: { name: string; uid: string } | undefined;
  if (bound) {
    const podName = stringAt(bound, "name") ?? "";
    const found = store.get("pods", namespace, podName);
    const uid = stringAt(bound, "uid");
    if (!found?.metadata.uid || (uid && uid !== found.metadata.uid)) {
      throw invalid(TOKEN_REQUEST, name, [fieldInvalid("spec.boundObjectRef", podName, `the pod ${namespace}/${podName}${uid ? ` with uid ${uid}` : ""} does not exist`)]);
    }
    pod = { name: podName, uid: found.metadata.uid };
  }
  const token = tokens.mint({ namespace, serviceAccount: { name, uid: account.metadata.uid }, ...(pod ? { pod } : {}) }, seconds, audiences);
  return {
    code: 201,
    body: {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds: seconds, boundObjectRef: bound ?? null },
      status: { token, expirationTimestamp: new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z") },
    },
  };
}
