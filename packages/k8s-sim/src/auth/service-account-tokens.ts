import type { KeyObject } from "node:crypto";
import { generateKeyPairSync, sign, verify } from "node:crypto";
import type { ObjectStore } from "../store.ts";
import type { UserInfo } from "./user.ts";
import { serviceAccountUser } from "./user.ts";

/** The issuer and audience real clusters put in service-account tokens. */
export const TOKEN_ISSUER = "https://kubernetes.default.svc.cluster.local";
/** What the service-account admission asks for; the kubelet requests this lifetime. */
export const PROJECTED_TOKEN_SECONDS = 3607;

export interface TokenBinding {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
}

interface TokenClaims {
  iss: string;
  aud: string[];
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  "kubernetes.io": { namespace: string; serviceaccount: { name: string; uid: string }; pod?: { name: string; uid: string } };
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString("base64url");

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== "object" || value === null) return false;
  const claims = value as Partial<Record<keyof TokenClaims, unknown>>;
  const bound = claims["kubernetes.io"];
  return typeof claims.exp === "number" && typeof claims.iss === "string" && typeof bound === "object" && bound !== null;
}

/**
 * Mints and checks bound service-account tokens: ES256 JWTs signed by a key made at start, with
 * the claims a real cluster puts in them. A token stops authenticating when it expires or when
 * its service account or bound pod is gone (or replaced by one with another uid).
 */
export class ServiceAccountTokens {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly store: ObjectStore;

  constructor(store: ObjectStore) {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.store = store;
  }

  /** A signed token for the binding; only tokens for the API server's audience (the default) authenticate here. */
  mint(binding: TokenBinding, lifetimeSeconds = PROJECTED_TOKEN_SECONDS, audiences: readonly string[] = [TOKEN_ISSUER]): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      iss: TOKEN_ISSUER,
      aud: [...audiences],
      sub: serviceAccountUser(binding.namespace, binding.serviceAccount.name).username,
      iat: now,
      nbf: now,
      exp: now + lifetimeSeconds,
      "kubernetes.io": {
        namespace: binding.namespace,
        serviceaccount: binding.serviceAccount,
        ...(binding.pod ? { pod: binding.pod } : {}),
      },
    };
    const signingInput = `${base64url(JSON.stringify({ alg: "ES256", kid: "k8s-sim" }))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign("sha256", Buffer.from(signingInput), { key: this.privateKey, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${base64url(signature)}`;
  }

  /** The user a token authenticates as, or undefined when it is not one of ours or no longer valid. */
  authenticate(token: string): UserInfo | undefined {
    const [header, payload, signature, ...extra] = token.split(".");
    if (!header || !payload || !signature || extra.length > 0) return undefined;
    let claims: unknown;
    try {
      const signed = verify("sha256", Buffer.from(`${header}.${payload}`), { key: this.publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
      if (!signed) return undefined;
      claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      // A token that is not even well-formed is just not ours.
      return undefined;
    }
    if (!isClaims(claims) || claims.iss !== TOKEN_ISSUER || claims.exp * 1000 < Date.now()) return undefined;
    if (!Array.isArray(claims.aud) || !claims.aud.includes(TOKEN_ISSUER)) return undefined;
    const bound = claims["kubernetes.io"];
    const account = this.store.get("serviceaccounts", bound.namespace, bound.serviceaccount.name);
    if (account?.metadata.uid !== bound.serviceaccount.uid) return undefined;
    if (bound.pod) {
      const pod = this.store.get("pods", bound.namespace, bound.pod.name);
      if (pod?.metadata.uid !== bound.pod.uid) return undefined;
    }
    return serviceAccountUser(bound.namespace, bound.serviceaccount.name);
  }
}
