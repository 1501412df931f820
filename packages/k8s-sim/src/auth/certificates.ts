import type { KeyObject } from "node:crypto";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";
import {
  bitString, booleanTrue, explicit, implicitPrimitive, objectIdentifier, octetString, sequence, set, time, unsignedInteger, utf8String,
} from "./der.ts";

/** The cluster's TLS material, PEM-encoded: a CA made at start and the API server's certificate signed by it. */
export interface ClusterTls {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

/** The names the API server answers to: loopback for the host, the in-cluster service names for pods. */
export const API_SERVER_NAMES = [
  "127.0.0.1",
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

const VALIDITY_MS = 365 * 24 * 3600 * 1000;
/** Certificates are valid from a little before now, so a client clock slightly behind still accepts them. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function name(commonName: string, organization?: string): Buffer {
  const attribute = (oid: string, value: string) => set(sequence(objectIdentifier(oid), utf8String(value)));
  return sequence(...(organization ? [attribute(OID.organization, organization)] : []), attribute(OID.commonName, commonName));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(oid), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function subjectAltNames(names: readonly string[]): Buffer {
  return sequence(
    ...names.map((entry) => {
      if (isIP(entry) === 4) return implicitPrimitive(7, Buffer.from(entry.split(".").map(Number)));
      return implicitPrimitive(2, Buffer.from(entry, "ascii"));
    }),
  );
}

function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash("sha1").update(publicKey.export({ type: "spki", format: "der" })).digest();
}

interface CertificateRequest {
  subject: Buffer;
  publicKey: KeyObject;
  issuer: Buffer;
  issuerKey: KeyObject;
  issuerPublicKey: KeyObject;
  extensions: Buffer[];
}

function signCertificate(request: CertificateRequest): string {
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  const now = Date.now();
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(serial),
    algorithm,
    request.issuer,
    sequence(time(new Date(now - CLOCK_SKEW_MS)), time(new Date(now + VALIDITY_MS))),
    request.subject,
    request.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(...request.extensions, extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, keyIdentifier(request.issuerPublicKey)))))),
  );
  const signature = sign("sha256", tbs, { key: request.issuerKey, dsaEncoding: "der" });
  const der = sequence(tbs, algorithm, bitString(signature));
  const base64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

/**
 * Makes a fresh CA (ECDSA P-256) and a server certificate for the API server signed by it, with
 * `names` (IPv4 addresses and DNS names) as subject alternative names.
 */
export function createClusterTls(names: readonly string[] = API_SERVER_NAMES): ClusterTls {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const server = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caName = name("k8s-sim-ca");
  const caCertPem = signCertificate({
    subject: caName,
    publicKey: ca.publicKey,
    issuer: caName,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    extensions: [
      extension(OID.basicConstraints, true, sequence(booleanTrue())),
      // digitalSignature, keyCertSign, cRLSign
      extension(OID.keyUsage, true, bitString(Buffer.from([0x86]), 1)),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(ca.publicKey))),
    ],
  });
  const serverCertPem = signCertificate({
    subject: name("kube-apiserver"),
    publicKey: server.publicKey,
    issuer: caName,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      // digitalSignature
      extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
      extension(OID.extKeyUsage, false, sequence(objectIdentifier(OID.serverAuth))),
      extension(OID.subjectAltName, false, subjectAltNames(names)),
    ],
  });
  const serverKeyPem = server.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return { caCertPem, serverCertPem, serverKeyPem };
}
