import { describe, expect, it } from "vitest";
import { podUsableEnv } from "./run-env.ts";

describe("podUsableEnv", () => {
  const onShared = (dir: string) => dir.startsWith("/paperclip/");

  it("drops temp and scratch directories of the Paperclip host, keeps everything else", () => {
    const { env, dropped } = podUsableEnv(
      {
        TMPDIR: "/var/lib/paperclip/scratch/run-1",
        TEMP: "/var/lib/paperclip/scratch/run-1",
        TMP: "/var/lib/paperclip/scratch/run-1",
        PAPERCLIP_TMPDIR: "/var/lib/paperclip/scratch/run-1",
        PAPERCLIP_RUN_SCRATCH_DIR: "/var/lib/paperclip/scratch/run-1",
        ANTHROPIC_BASE_URL: "http://llm:8080",
        TMPDIR_HINT: "/elsewhere",
      },
      onShared,
    );
    expect(env).toEqual({ ANTHROPIC_BASE_URL: "http://llm:8080", TMPDIR_HINT: "/elsewhere" });
    expect(dropped.sort()).toEqual(["PAPERCLIP_RUN_SCRATCH_DIR", "PAPERCLIP_TMPDIR", "TEMP", "TMP", "TMPDIR"]);
  });

  it("keeps a temp directory that lies on the shared volume (the pod sees it at the same path)", () => {
    expect(podUsableEnv({ TMPDIR: "/paperclip/tmp" }, onShared)).toEqual({ env: { TMPDIR: "/paperclip/tmp" }, dropped: [] });
  });
});
