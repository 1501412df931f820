import type { JsonObject } from "./json.ts";
import { badRequest, unsupportedMediaType } from "./status.ts";

/**
 * kubectl sends some requests only as protobuf: `kubectl auth can-i` (SelfSubjectAccessReview),
 * `kubectl auth can-i --list` (SelfSubjectRulesReview), `kubectl auth whoami` (SelfSubjectReview)
 * and `kubectl create token` (TokenRequest).
 * This reads those messages into their JSON form: the `k8s\0` envelope (runtime.Unknown), then
 * the fields the sim acts on. Everything else stays 415.
 */
const ENVELOPE_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

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

/** A message's fields by number: every occurrence in order (repeated fields), as bytes or a varint. */
class Message {
  private readonly values = new Map<number, (Buffer | number)[]>();

  constructor(bytes: Buffer | undefined) {
    const data = bytes ?? Buffer.alloc(0);
    let offset = 0;
    while (offset < data.length) {
      const key = readVarint(data, offset);
      const field = Math.floor(key.value / 8);
      const wireType = key.value % 8;
      offset = key.next;
      let value: Buffer | number | undefined;
      if (wireType === 0) {
        const varint = readVarint(data, offset);
        value = varint.value;
        offset = varint.next;
      } else if (wireType === 2) {
        const length = readVarint(data, offset);
        const end = length.next + length.value;
        if (end > data.length) throw badRequest("protobuf body: a field runs past the end of the message");
        value = data.subarray(length.next, end);
        offset = end;
      } else if (wireType === 1 || wireType === 5) {
        offset += wireType === 1 ? 8 : 4;
      } else {
        throw badRequest(`protobuf body: unsupported wire type ${wireType}`);
      }
      if (offset > data.length) throw badRequest("protobuf body: truncated message");
      if (value !== undefined) this.values.set(field, [...(this.values.get(field) ?? []), value]);
    }
  }

  message(field: number): Message | undefined {
    const value = this.values.get(field)?.at(-1);
    return Buffer.isBuffer(value) ? new Message(value) : undefined;
  }

  strings(field: number): string[] {
    return (this.values.get(field) ?? []).filter((value) => Buffer.isBuffer(value)).map((value) => value.toString("utf8"));
  }

  string(field: number): string | undefined {
    const value = this.strings(field).at(-1);
    return value === "" ? undefined : value;
  }

  integer(field: number): number | undefined {
    const value = this.values.get(field)?.at(-1);
    return typeof value === "number" ? value : undefined;
  }

  /** Named string fields as a JSON object (empty ones left out, as proto3 has no "unset" string). */
  record(names: Record<number, string>): JsonObject {
    const result: JsonObject = {};
    for (const [number, name] of Object.entries(names)) {
      const value = this.string(Number(number));
      if (value !== undefined) result[name] = value;
    }
    return result;
  }
}

const OBJECT_META = { 1: "name", 3: "namespace" };

function selfSubjectAccessReview(review: Message): JsonObject {
  const spec = review.message(2);
  const resource = spec?.message(1);
  const nonResource = spec?.message(2);
  return {
    spec: {
      ...(resource ? { resourceAttributes: resource.record({ 1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name" }) } : {}),
      ...(nonResource ? { nonResourceAttributes: nonResource.record({ 1: "path", 2: "verb" }) } : {}),
    },
  };
}

function selfSubjectRulesReview(review: Message): JsonObject {
  return { spec: review.message(2)?.record({ 1: "namespace" }) ?? {} };
}

function tokenRequest(request: Message): JsonObject {
  const spec = request.message(2);
  const bound = spec?.message(3);
  const expirationSeconds = spec?.integer(4);
  return {
    metadata: request.message(1)?.record(OBJECT_META) ?? {},
    spec: {
      audiences: spec?.strings(1) ?? [],
      ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
      ...(bound ? { boundObjectRef: bound.record({ 1: "kind", 2: "apiVersion", 3: "name", 4: "uid" }) } : {}),
    },
  };
}

const DECODERS: Record<string, { apiVersion: string; decode: (message: Message) => JsonObject }> = {
  SelfSubjectAccessReview: { apiVersion: "authorization.k8s.io/v1", decode: selfSubjectAccessReview },
  SelfSubjectRulesReview: { apiVersion: "authorization.k8s.io/v1", decode: selfSubjectRulesReview },
  TokenRequest: { apiVersion: "authentication.k8s.io/v1", decode: tokenRequest },
  // Nothing in it is read: the answer is about the caller.
  SelfSubjectReview: { apiVersion: "authentication.k8s.io/v1", decode: () => ({}) },
};

/** The JSON form of a protobuf request body of one of the kinds above; any other kind is 415, as before. */
export function decodeProtobufBody(body: Buffer): JsonObject {
  if (!body.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)) throw badRequest("protobuf body: missing the k8s envelope prefix");
  const envelope = new Message(body.subarray(ENVELOPE_MAGIC.length));
  const kind = envelope.message(1)?.string(2) ?? "";
  const decoder = DECODERS[kind];
  if (!decoder) throw unsupportedMediaType();
  return { apiVersion: decoder.apiVersion, kind, metadata: {}, ...decoder.decode(envelope.message(2) ?? new Message(undefined)) };
}
