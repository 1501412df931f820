import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCriLine } from "../pod-log-files.ts";
import { InvalidImageReferenceError, ImageRegistry, defaultPullPolicy, parseImageReference } from "./images.ts";
import { ContainerLogWriter, MAX_RECORD_BYTES } from "./log-writer.ts";
import { parseQuantity } from "./quantity.ts";

describe("image references", () => {
  it.each([
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["docker.io/library/busybox:latest", "docker.io/library/busybox:latest"],
    ["index.docker.io/acme/agent", "docker.io/acme/agent:latest"],
    ["ghcr.io/acme/agent:v1", "ghcr.io/acme/agent:v1"],
    ["localhost:5000/agent", "localhost:5000/agent:latest"],
    [`agent@sha256:${"a".repeat(64)}`, `docker.io/library/agent@sha256:${"a".repeat(64)}`],
  ])("normalizes %s to %s", (reference, canonical) => {
    expect(parseImageReference(reference).canonical).toBe(canonical);
  });

  it.each(["Busybox", "bad image", "a::b", "", "agent:", "-agent", "agent@sha256:zz"])("rejects %j as an invalid reference", (reference) => {
    expect(() => parseImageReference(reference)).toThrow(InvalidImageReferenceError);
  });

  it("matches registrations with and without the defaults, and picks the default pull policy", () => {
    const registry = new ImageRegistry();
    registry.register("busybox", ["/bin"]);
    expect(registry.lookup(parseImageReference("docker.io/library/busybox:latest"))).toEqual(["/bin"]);
    expect(registry.lookup(parseImageReference("busybox:1.36"))).toBeUndefined();
    expect(defaultPullPolicy(parseImageReference("busybox"))).toBe("Always");
    expect(defaultPullPolicy(parseImageReference("busybox:1.36"))).toBe("IfNotPresent");
    expect(() => registry.register("x", [])).toThrow(/at least one directory/);
  });
});

describe("quantities", () => {
  it("parses binary, decimal and exponent forms", () => {
    expect(parseQuantity("128Mi")).toBe(128 * 2 ** 20);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("500m")).toBe(0.5);
    expect(() => parseQuantity("12 apples")).toThrow(/quantities must match/);
  });
});

describe("ContainerLogWriter", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function records(file: string) {
    return readFileSync(file, "utf8").trimEnd().split("\n").map((line) => parseCriLine(line));
  }

  it("holds partial lines until the newline, splits long lines on character boundaries, flushes a trailing partial", () => {
    dir = mkdtempSync(path.join(tmpdir(), "log-writer-"));
    const file = path.join(dir, "c.log");
    const writer = new ContainerLogWriter(file);
    const euro = Buffer.from("€"); // three bytes
    writer.write("stdout", Buffer.from("hel"));
    writer.write("stderr", Buffer.from("err\n"));
    writer.write("stdout", Buffer.concat([Buffer.from("lo "), euro.subarray(0, 1)]));
    writer.write("stdout", Buffer.concat([euro.subarray(1), Buffer.from("\n")]));
    const long = "é".repeat(MAX_RECORD_BYTES); // 2 bytes each: needs splitting
    writer.write("stdout", Buffer.from(`${long}\nend`));
    writer.close();
    const parsed = records(file);
    expect(parsed[0]).toMatchObject({ stream: "stderr", full: true, content: "err" });
    expect(parsed[1]).toMatchObject({ stream: "stdout", full: true, content: "hello €" });
    const longRecords = parsed.slice(2, -1);
    expect(longRecords.slice(0, -1).every((record) => record?.full === false)).toBe(true);
    expect(longRecords.at(-1)?.full).toBe(true);
    expect(longRecords.map((record) => record?.content).join("")).toBe(long);
    expect(parsed.at(-1)).toMatchObject({ full: false, content: "end" });
    expect(parsed[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it("keeps the last 80 lines, at most 2048 bytes, as the fallback message", () => {
    dir = mkdtempSync(path.join(tmpdir(), "log-writer-"));
    const writer = new ContainerLogWriter(path.join(dir, "c.log"));
    writer.write("stdout", Buffer.from(Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n"));
    expect(writer.tail().split("\n")).toEqual(Array.from({ length: 80 }, (_, i) => `line ${i + 20}`));
    writer.write("stdout", Buffer.from(`${"x".repeat(3000)}\n`));
    expect(Buffer.byteLength(writer.tail())).toBe(2048);
    writer.close();
  });
});
