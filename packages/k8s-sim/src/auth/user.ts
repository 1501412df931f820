/** Who a request is from, as the authenticators hand it to authorization. */
export interface UserInfo {
  username: string;
  groups: string[];
}

/** The admin kubeconfig's user: in `system:masters`, which no authorizer can refuse. */
export const CLUSTER_ADMIN: UserInfo = { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] };
export const ANONYMOUS: UserInfo = { username: "system:anonymous", groups: ["system:unauthenticated"] };

const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";

export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    username: `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`,
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
  };
}

/** `system:serviceaccount:<ns>:<name>` split into its parts; undefined for other user names. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const [namespace, name, ...rest] = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
  if (!namespace || !name || rest.length > 0) return undefined;
  return { namespace, name };
}
