import { createHash } from "node:crypto";

/** An image reference in the canonical form containerd reports, e.g. `docker.io/library/busybox:latest`. */
export interface ImageReference {
  /** `registry/repository`, e.g. `docker.io/library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** `repository[:tag][@digest]` with the defaults filled in (`latest` when neither tag nor digest). */
  canonical: string;
}

export class InvalidImageReferenceError extends Error {}

const DEFAULT_REGISTRY = "docker.io";
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME_LENGTH = 255;

/**
 * Parses and normalizes a reference the way the kubelet does before pulling (Docker's grammar:
 * `[domain/]path[:tag][@digest]`, `docker.io/library/` for bare names, `:latest` by default).
 */
export function parseImageReference(reference: string): ImageReference {
  const invalid = () =>
    new InvalidImageReferenceError(
      `Failed to apply default image tag "${reference}": couldn't parse image name "${reference}": invalid reference format`,
    );
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid();
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw invalid();
  }
  if (rest.length === 0 || rest.length > MAX_NAME_LENGTH) throw invalid();
  const components = rest.split("/");
  let domain = DEFAULT_REGISTRY;
  const first = components[0] ?? "";
  // Docker's rule: the first component is a registry when it looks like a host name.
  if (components.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw invalid();
    domain = first === "index.docker.io" ? DEFAULT_REGISTRY : first;
    components.shift();
  }
  if (components.some((component) => !PATH_COMPONENT.test(component))) throw invalid();
  if (domain === DEFAULT_REGISTRY && components.length === 1) components.unshift("library");
  const repository = `${domain}/${components.join("/")}`;
  if (tag === undefined && digest === undefined) tag = "latest";
  const canonical = repository + (tag === undefined ? "" : `:${tag}`) + (digest === undefined ? "" : `@${digest}`);
  return { repository, tag, digest, canonical };
}

/** The `imageID` a container status reports: the repository pinned to a (made-up, stable) digest. */
export function imageIdOf(image: ImageReference): string {
  const digest = image.digest ?? `sha256:${createHash("sha256").update(image.canonical).digest("hex")}`;
  return `${image.repository}@${digest}`;
}

/** Kubernetes' default pull policy: `Always` for `:latest` (or no tag), else `IfNotPresent`. */
export function defaultPullPolicy(image: ImageReference): "Always" | "IfNotPresent" {
  return image.tag === "latest" && image.digest === undefined ? "Always" : "IfNotPresent";
}

/**
 * The sim's image store: each reference maps to host directories of executables that stand in
 * for the image's filesystem (mounted read-only in the container, first on its PATH).
 */
export class ImageRegistry {
  private readonly images = new Map<string, string[]>();

  register(reference: string, dirs: readonly string[]): void {
    if (dirs.length === 0) throw new Error(`image "${reference}": at least one directory of executables is required`);
    this.images.set(parseImageReference(reference).canonical, [...dirs]);
  }

  lookup(image: ImageReference): string[] | undefined {
    return this.images.get(image.canonical);
  }
}
