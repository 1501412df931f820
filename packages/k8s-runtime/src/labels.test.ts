import { describe, expect, it } from "vitest";
import {
  MAX_AGENT_NAME_ANNOTATION_LENGTH,
  ANNOTATION_RETAIN,
  ANNOTATION_RUN_DIRECTORY,
  ANNOTATION_RUN_ID,
  ANNOTATION_SESSION_ID,
  ANNOTATION_TASK_ID,
  LABEL_AGENT_ID,
  LABEL_RUN_ID,
  LABEL_SESSION_ID,
  LABEL_TASK_ID,
  MANAGED_SELECTOR,
  agentSelector,
  buildRunAnnotations,
  buildRunLabels,
  readRunAnnotations,
  reattachMetadataPatch,
  sanitizeLabelValue,
  type RunIdentity,
} from "./labels.ts";
import { randomText } from "./testing/random-text.ts";

const KUBERNETES_LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const run: RunIdentity = {
  agentId: "7F3C2A10-aaaa-bbbb-cccc-000000000001",
  agentName: "Release Manager",
  runId: "run_42",
  companyId: "co-1",
  adapterType: "claude_k8s",
  taskId: "Task/With Spaces",
  sessionId: null,
};

describe("sanitizeLabelValue", () => {
  it.each([
    ["claude_k8s", "claude_k8s"],
    ["ABC-def", "abc-def"],
    ["-leading", "leading"],
    ["trailing-", "trailing"],
    ["_._x_._", "x"],
    ["a b/c", "a-b-c"],
    ["ä", ""],
    ["---", ""],
    ["", ""],
    ["x".repeat(62) + "-y", "x".repeat(62)],
  ])("%j → %j", (input, expected) => {
    expect(sanitizeLabelValue(input)).toBe(expected);
  });

  it("cuts to 63 characters and still ends alphanumeric", () => {
    const value = sanitizeLabelValue("a".repeat(62) + ".bbbb");
    expect(value).toBe("a".repeat(62));
  });

  it("always yields a valid label value (fuzz)", () => {
    const random = randomText(63);
    for (let i = 0; i < 5000; i++) {
      const input = i % 2 === 0 ? random.stringOf("aZ09-_.!/ ", 0, 90) : random.string(0, 90);
      const value = sanitizeLabelValue(input);
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(KUBERNETES_LABEL_VALUE);
      expect(value).toBe(value.toLowerCase());
      // Idempotent: a clean value passes unchanged.
      expect(sanitizeLabelValue(value)).toBe(value);
    }
  });
});

describe("run labels and annotations", () => {
  it("labels the run with sanitized ids and the managed-by pair", () => {
    const labels = buildRunLabels(run, { team: "platform" });
    expect(labels).toEqual({
      team: "platform",
      "app.kubernetes.io/managed-by": "paperclip",
      "app.kubernetes.io/component": "agent-job",
      "paperclip.io/agent-id": "7f3c2a10-aaaa-bbbb-cccc-000000000001",
      "paperclip.io/run-id": "run_42",
      "paperclip.io/company-id": "co-1",
      "paperclip.io/adapter-type": "claude_k8s",
      "paperclip.io/task-id": "task-with-spaces",
    });
    expect(labels[LABEL_SESSION_ID]).toBeUndefined();
  });

  it("never lets user labels replace the runtime's", () => {
    const labels = buildRunLabels(run, { [LABEL_RUN_ID]: "forged", "app.kubernetes.io/managed-by": "someone" });
    expect(labels[LABEL_RUN_ID]).toBe("run_42");
    expect(labels["app.kubernetes.io/managed-by"]).toBe("paperclip");
  });

  it("leaves out ids that sanitize to nothing", () => {
    const labels = buildRunLabels({ ...run, taskId: "äöü", sessionId: "" });
    expect(labels[LABEL_TASK_ID]).toBeUndefined();
    expect(labels[LABEL_SESSION_ID]).toBeUndefined();
  });

  it("keeps full ids in annotations and reads them back", () => {
    const annotations = buildRunAnnotations({ ...run, sessionId: "Session:ABC/1" });
    expect(annotations[ANNOTATION_TASK_ID]).toBe("Task/With Spaces");
    expect(annotations[ANNOTATION_SESSION_ID]).toBe("Session:ABC/1");
    expect(annotations["paperclip.io/agent-name"]).toBe("Release Manager");
    expect(annotations["paperclip.io/adapter-type"]).toBe("claude_k8s");
    expect(readRunAnnotations(annotations)).toEqual({
      agentId: run.agentId,
      runId: "run_42",
      taskId: "Task/With Spaces",
      sessionId: "Session:ABC/1",
    });
    expect(readRunAnnotations(buildRunAnnotations(run)).sessionId).toBeNull();
    expect(buildRunAnnotations(run)[ANNOTATION_RETAIN]).toBeUndefined();
    const kept = buildRunAnnotations({ ...run, runDirectory: "/data/k8s-runs/co-1/a/r", retain: true });
    expect(kept[ANNOTATION_RUN_DIRECTORY]).toBe("/data/k8s-runs/co-1/a/r");
    expect(kept[ANNOTATION_RETAIN]).toBe("true");
    expect(readRunAnnotations(undefined)).toEqual({ agentId: null, runId: null, taskId: null, sessionId: null });
  });

  it("cuts an overlong agent name in its annotation (all annotations together may hold 256 KiB)", () => {
    const name = buildRunAnnotations({ ...run, agentName: `Agent ${"n".repeat(300 * 1024)}` })["paperclip.io/agent-name"] ?? "";
    expect(name).toHaveLength(MAX_AGENT_NAME_ANNOTATION_LENGTH);
    expect(name.startsWith("Agent nnn")).toBe(true);
    expect(name.endsWith("…")).toBe(true);
    // A cut never leaves half of a surrogate pair.
    const emoji = buildRunAnnotations({ ...run, agentName: "😀".repeat(MAX_AGENT_NAME_ANNOTATION_LENGTH) })["paperclip.io/agent-name"] ?? "";
    expect(emoji.length).toBeLessThanOrEqual(MAX_AGENT_NAME_ANNOTATION_LENGTH);
    expect(emoji.endsWith("😀…")).toBe(true);
    expect(Buffer.from(emoji, "utf8").toString("utf8")).toBe(emoji);
    expect(buildRunAnnotations({ ...run, agentName: "n".repeat(MAX_AGENT_NAME_ANNOTATION_LENGTH) })["paperclip.io/agent-name"]).toBe("n".repeat(MAX_AGENT_NAME_ANNOTATION_LENGTH));
  });

  it("builds selectors and the reattach patch", () => {
    expect(MANAGED_SELECTOR).toBe("app.kubernetes.io/managed-by=paperclip");
    expect(agentSelector(run.agentId)).toBe(
      `app.kubernetes.io/managed-by=paperclip,${LABEL_AGENT_ID}=7f3c2a10-aaaa-bbbb-cccc-000000000001`,
    );
    expect(reattachMetadataPatch("New Run")).toEqual({
      labels: { [LABEL_RUN_ID]: "new-run" },
      annotations: { [ANNOTATION_RUN_ID]: "New Run" },
    });
    expect(reattachMetadataPatch("ü").labels[LABEL_RUN_ID]).toBeNull();
  });
});
