import type { AdapterExecutionResult } from "@paperclipai/adapter-utils";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, errorCatalogueMarkdown, failedRunResult, isErrorCode } from "./errors.ts";

describe("error catalogue", () => {
  it("keeps the codes operators already match on", () => {
    for (const code of [
      "timeout", "cancelled", "session_unavailable", "llm_api_error", "claude_truncated",
      "k8s_job_create_failed", "k8s_pod_schedule_failed", "k8s_pod_reattach_failed", "k8s_concurrent_run_blocked",
      "k8s_orphan_task_unknown", "k8s_orphan_session_mismatch", "k8s_concurrency_guard_unreachable",
      "k8s_agent_id_invalid", "k8s_job_state_mismatch", "k8s_job_deleted_externally",
    ]) {
      expect(isErrorCode(code), code).toBe(true);
    }
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode("nope")).toBe(false);
  });

  it("gives every code a meaning and an action", () => {
    for (const [code, info] of Object.entries(ERROR_CATALOGUE)) {
      expect(code).toMatch(/^[a-z0-9_]+$/);
      expect(info.meaning.length, code).toBeGreaterThan(10);
      expect(info.action.length, code).toBeGreaterThan(5);
    }
  });

  it("builds a failed result Paperclip accepts", () => {
    const result: AdapterExecutionResult = failedRunResult("k8s_config_invalid", "config.graceSec must be …", { key: "graceSec" });
    expect(result).toEqual({
      exitCode: null,
      signal: null,
      timedOut: false,
      errorCode: "k8s_config_invalid",
      errorMessage: "config.graceSec must be …",
      errorMeta: { key: "graceSec" },
      executionRecovery: { kind: "bootstrap", providerWorkStarted: false },
    });
    expect(failedRunResult("timeout", "took too long").timedOut).toBe(true);
    expect("executionRecovery" in failedRunResult("k8s_job_deleted_externally", "x")).toBe(false);
    expect(failedRunResult("k8s_image_pull_failed", "x").executionRecovery).toEqual({ kind: "bootstrap", providerWorkStarted: false });
    expect("errorMeta" in failedRunResult("cancelled", "x")).toBe(false);
  });

  it("renders a markdown table with one row per code", () => {
    const table = errorCatalogueMarkdown().split("\n");
    expect(table).toHaveLength(2 + Object.keys(ERROR_CATALOGUE).length);
    expect(table).toContain(
      `| \`k8s_secret_create_failed\` | ${ERROR_CATALOGUE.k8s_secret_create_failed.meaning} | ${ERROR_CATALOGUE.k8s_secret_create_failed.action} | yes |`,
    );
    expect(table).toContain(`| \`timeout\` | ${ERROR_CATALOGUE.timeout.meaning} | ${ERROR_CATALOGUE.timeout.action} |  |`);
  });
});
