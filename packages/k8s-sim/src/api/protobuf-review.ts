import type { JsonObject } from "./json.ts";
import { badRequest } from "./status.ts";

/**
 * kubectl sends a SelfSubjectAccessReview (`kubectl auth can-i`) only as protobuf. This reads that
 * one message into its JSON form: the `k8s\0` envelope (runtime.Unknown), then the review's spec.
 * Only length-delimited (string / message) fields are kept; varints and fixed fields are skipped.
 */
const ENVELOPE_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function readVarint(bytes: Buffer, offset: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
    if (shift > 63) break;
  }
  throw badRequest("protobuf body: truncated or overlong varint");
}

/** The length-delimited fields of one message, by field number (a repeated field keeps its last value). */
function fields(bytes: Buffer): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  let offset = 0;
  while (offset < bytes.length) {
    const key = readVarint(bytes, offset);
    const field = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    offset = key.next;
    if (wireType === 0) offset = readVarint(bytes, offset).next;
    else if (wireType === 1) offset += 8;
    else if (wireType === 5) offset += 4;
    else if (wireType === 2) {
      const length = readVarint(bytes, offset);
      const end = length.next + length.value;
      if (end > bytes.length) throw badRequest("protobuf body: a field runs past the end of the message");
      found.set(field, bytes.subarray(length.next, end));
      offset = end;
    } else {
      throw badRequest(`protobuf body: unsupported wire type ${wireType}`);
    }
  }
  if (offset > bytes.length) throw badRequest("protobuf body: truncated message");
  return found;
}

function stringFields(message: Buffer | undefined, names: Record<number, string>): JsonObject | undefined {
  if (!message) return undefined;
  const values = fields(message);
  const result: JsonObject = {};
  for (const [number, name] of Object.entries(names)) {
    const value = values.get(Number(number));
    if (value !== undefined && value.length > 0) result[name] = value.toString("utf8");
  }
  return result;
}

/** The JSON form of a protobuf-encoded `authorization.k8s.io/v1` SelfSubjectAccessReview. */
export function decodeSelfSubjectAccessReview(body: Buffer): JsonObject {
  if (!body.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) throw badRequest("protobuf body: missing the k8s envelope prefix");
  const envelope = fields(body.subarray(ENVELOPE_MAGIC.length));
  const typeMeta = stringFields(envelope.get(1), { 1: "apiVersion", 2: "kind" });
  if (typeMeta?.kind !== "SelfSubjectAccessReview") {
    throw badRequest(`protobuf body: expected a SelfSubjectAccessReview, got ${String(typeMeta?.kind ?? "no kind")}`);
  }
  const review = fields(envelope.get(2) ?? Buffer.alloc(0));
  const spec = fields(review.get(2) ?? Buffer.alloc(0));
  const resourceAttributes = stringFields(spec.get(1), {
    1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name",
  });
  const nonResourceAttributes = stringFields(spec.get(2), { 1: "path", 2: "verb" });
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    metadata: {},
    spec: { ...(resourceAttributes ? { resourceAttributes } : {}), ...(nonResourceAttributes ? { nonResourceAttributes } : {}) },
  };
}
