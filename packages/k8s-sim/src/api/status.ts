import type { ResourceInfo } from "./resources.ts";
import { qualifiedKind, qualifiedResource } from "./resources.ts";

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A `meta/v1 Status` object, as the API server sends for errors and some deletes. */
export interface StatusObject {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** An error the API answers with a Status body and the same HTTP code. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string>;

  constructor(code: number, reason: string, message: string, details?: StatusDetails, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }

  toStatus(): StatusObject {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

export function failureStatus(code: number, reason: string, message: string, details?: StatusDetails): StatusObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export function successStatus(resource: ResourceInfo, name: string, uid: string | undefined): StatusObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { name, group: resource.group, kind: resource.plural, ...(uid ? { uid } : {}) },
    code: 200,
  };
}

function resourceDetails(resource: ResourceInfo, name: string): StatusDetails {
  return { name, group: resource.group, kind: resource.plural };
}

export function notFound(resource: ResourceInfo, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualifiedResource(resource)} "${name}" not found`, resourceDetails(resource, name));
}

export function alreadyExists(resource: ResourceInfo, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualifiedResource(resource)} "${name}" already exists`, resourceDetails(resource, name));
}

export function conflict(resource: ResourceInfo, name: string, why = "the object has been modified; please apply your changes to the latest version and try again"): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": ${why}`,
    resourceDetails(resource, name),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/** 415: what clients get for a body in a format the sim does not read (protobuf, YAML), so they fall back to JSON. */
export function unsupportedMediaType(): ApiError {
  return new ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json");
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

/** One field problem, as `field.Error` renders it: `<field>: <type>: <detail>`. */
export interface FieldError {
  field: string;
  reason: "FieldValueInvalid" | "FieldValueRequired" | "FieldValueNotSupported" | "FieldValueDuplicate" | "FieldValueTooLong" | "FieldValueForbidden" | "FieldValueNotFound";
  /** The message after the field path, e.g. `Invalid value: "x": must be ...`. */
  message: string;
}

export function invalid(resource: ResourceInfo, name: string, errors: FieldError[]): ApiError {
  const rendered = errors.map((e) => `${e.field}: ${e.message}`);
  const summary = rendered.length === 1 ? rendered[0] : `[${rendered.join(", ")}]`;
  return new ApiError(422, "Invalid", `${qualifiedKind(resource)} "${name}" is invalid: ${summary}`, {
    name,
    group: resource.group,
    kind: resource.kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
  });
}

/** 404 for a path that names no resource (the API server's generic "page not found"). */
export function notFoundPath(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}
