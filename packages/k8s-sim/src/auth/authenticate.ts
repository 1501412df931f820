import type { IncomingHttpHeaders } from "node:http";
import { ApiError, badRequest } from "../api/status.ts";
import type { ObjectStore } from "../store.ts";
import { authorize, forbiddenMessage } from "./rbac.ts";
import type { RequestAttributes } from "./rbac.ts";
import type { ServiceAccountTokens } from "./service-account-tokens.ts";
import type { UserInfo } from "./user.ts";
import { ANONYMOUS, CLUSTER_ADMIN, parseServiceAccountUsername, serviceAccountUser } from "./user.ts";

export interface Authenticators {
  /** The admin kubeconfig's bearer token: cluster-admin. */
  adminToken: string;
  tokens: ServiceAccountTokens;
  /**
   * Who a request without credentials is. On the plain-HTTP listener (the lab's old
   * "insecure port") that is the admin, so raw test requests keep working; on HTTPS it is
   * `system:anonymous`, as on a real API server.
   */
  withoutCredentials: UserInfo;
}

export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

export function forbidden(user: UserInfo, attributes: RequestAttributes): ApiError {
  const details = attributes.kind === "resource"
    ? { ...(attributes.name ? { name: attributes.name } : {}), group: attributes.apiGroup, kind: attributes.resource }
    : {};
  return new ApiError(403, "Forbidden", forbiddenMessage(user, attributes), details);
}

/** The user behind a request's bearer token; an unknown or expired token is 401 Unauthorized. */
export function authenticate(headers: IncomingHttpHeaders, authenticators: Authenticators): UserInfo {
  const header = headers.authorization;
  if (header === undefined) return authenticators.withoutCredentials;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthorized();
  const token = match[1];
  if (token === authenticators.adminToken) return CLUSTER_ADMIN;
  const user = authenticators.tokens.authenticate(token);
  if (!user) throw unauthorized();
  return user;
}

/**
 * `Impersonate-User` / `Impersonate-Group` (kubectl `--as`, `--as-group`): the caller must be
 * allowed to `impersonate` the user (or service account) and each group; the request then runs
 * as that user. A service account gets its groups, and everyone `system:authenticated`.
 */
export function impersonate(store: ObjectStore, caller: UserInfo, headers: NodeJS.Dict<string[]>): UserInfo {
  const [username, ...more] = headers["impersonate-user"] ?? [];
  const groups = headers["impersonate-group"] ?? [];
  if (username === undefined) {
    if (groups.length > 0) throw badRequest("Impersonate-Group needs an Impersonate-User as well");
    return caller;
  }
  if (more.length > 0) throw badRequest("only one Impersonate-User header may be given");
  const account = parseServiceAccountUsername(username);
  const checks: RequestAttributes[] = [
    account
      ? { kind: "resource", verb: "impersonate", apiGroup: "", resource: "serviceaccounts", namespace: account.namespace, name: account.name }
      : { kind: "resource", verb: "impersonate", apiGroup: "", resource: "users", name: username },
    ...groups.map((group): RequestAttributes => ({ kind: "resource", verb: "impersonate", apiGroup: "", resource: "groups", name: group })),
  ];
  for (const check of checks) {
    if (!authorize(store, caller, check).allowed) throw forbidden(caller, check);
  }
  const base = account && groups.length === 0 ? serviceAccountUser(account.namespace, account.name).groups : groups;
  const impersonatedGroups = username === ANONYMOUS.username ? base : [...new Set([...base, "system:authenticated"])];
  return { username, groups: impersonatedGroups };
}
