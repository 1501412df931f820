/**
 * shared-watch.ts imports client-node's model deserializer from a file inside the package (it is not exported
 * from the package root, and nothing public turns raw watch JSON into the models the LIST calls return).
 * This test names the problem when a client-node upgrade moves or changes that file.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";

const DEEP_IMPORT = "dist/gen/models/ObjectSerializer.js";

describe("the one deep import into @kubernetes/client-node", () => {
  it(`${DEEP_IMPORT} still exists and turns raw JSON into client-node models`, async () => {
    const manifestPath = createRequire(import.meta.url).resolve("@kubernetes/client-node/package.json");
    const { version }: { version: string } = JSON.parse(readFileSync(manifestPath, "utf8"));
    const file = path.join(path.dirname(manifestPath), DEEP_IMPORT);
    expect(existsSync(file), `@kubernetes/client-node ${version} no longer has ${DEEP_IMPORT}: update the import in shared-watch.ts`).toBe(true);
    const { ObjectSerializer }: typeof import("@kubernetes/client-node/dist/gen/models/ObjectSerializer.js") = await import(pathToFileURL(file).href);
    const job: V1Job = ObjectSerializer.deserialize({ kind: "Job", metadata: { name: "j", creationTimestamp: "2026-01-01T00:00:00Z" } }, "V1Job", "");
    expect(job.metadata?.creationTimestamp, `@kubernetes/client-node ${version}: ObjectSerializer.deserialize no longer builds models`).toBeInstanceOf(Date);
  });
});
