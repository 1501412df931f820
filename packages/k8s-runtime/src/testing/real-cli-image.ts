/** Test support: a real CLI's image for simulated agent pods, from its spec's layers. */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { RealCliSpec } from "./real-cli-spec.ts";
import type { AgentImage } from "./sim-harness.ts";

/** A word safe inside double quotes in sh. */
function shellQuoted(text: string): string {
  return `"${text.replace(/["\\$`]/g, (char) => `\\${char}`)}"`;
}

/**
 * An image whose CLI is the real one: a shim named like the CLI (layer 0) that runs the spec's entrypoint from
 * the spec's layers (1…n). The shim finds them beside its own mount point, since pods see image layers only at
 * their mount paths (symlinks into the host's node_modules would break).
 */
export async function buildRealCliImage(spec: RealCliSpec): Promise<AgentImage> {
  const { layers, entrypoint } = spec.image();
  if (!/^[A-Za-z0-9._-]+$/.test(spec.cli)) throw new Error(`real-CLI spec: cli ${JSON.stringify(spec.cli)} is not a plain executable name`);
  if (entrypoint.length === 0) throw new Error(`real-CLI spec of ${spec.cli}: the image's entrypoint is empty`);
  const words = entrypoint.map(({ layer, path: file }) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= layers.length) {
      throw new Error(`real-CLI spec of ${spec.cli}: entrypoint layer ${layer} is not one of its ${layers.length} layers`);
    }
    return `"$layers"/${layer + 1}/${shellQuoted(file)}`;
  });
  const shimDir = await mkdtemp(path.join(tmpdir(), `real-${spec.cli}-image-`));
  await chmod(shimDir, 0o755);
  await writeFile(path.join(shimDir, spec.cli), `#!/bin/sh\nlayers="$(dirname "$0")/.."\nexec ${words.join(" ")} "$@"\n`, { mode: 0o755 });
  return { layers: [shimDir, ...layers], remove: () => rm(shimDir, { recursive: true, force: true }) };
}
