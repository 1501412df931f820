import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { LABEL_AGENT_ID, sanitizeLabelValue } from "../../labels.ts";
import { redactionMarker } from "../../redaction.ts";
import type { ConformanceContext, FakeAgentScenario, ScenarioRun } from "../conformance-context.ts";

type Chunk = NonNullable<FakeAgentScenario["chunks"]>[number];

/** The run's three kinds of secret: an allowlisted provider key from the server env, the run JWT, a config `env` value. */
interface RunSecrets {
  providerKey: string;
  token: string;
  configValue: string;
}

const PROVIDER_KEY = "ANTHROPIC_API_KEY";
const CONFIG_KEY = "MY_SERVICE_TOKEN";
const TOKEN_KEY = "PAPERCLIP_API_KEY";

/**
 * A run whose agent prints `chunks`, with the three secrets in its env, recording every version of its Job and
 * Pod as the cluster stores them and what the agent's env held.
 */
async function runWithSecrets<TParsed>(
  t: ConformanceContext<TParsed>,
  scenario: FakeAgentScenario,
): Promise<{ run: ScenarioRun; secrets: RunSecrets; stored: string[]; agentEnv: Record<string, string> }> {
  const secrets: RunSecrets = {
    providerKey: `sk-ant-api03-${randomUUID()}`,
    token: `run-jwt-${randomUUID()}`,
    configValue: `cfg-secret-${randomUUID()}`,
  };
  const agentId = randomUUID();
  const label = sanitizeLabelValue(agentId);
  const recording = await t.recordingPath(agentId, "env.json");
  const stored: string[] = [];
  const { store } = t.cluster.sim;
  const unsubscribe = ["jobs", "pods"].map((resource) =>
    store.subscribe(resource, (event) => {
      if (event.object.metadata.labels?.[LABEL_AGENT_ID] === label) stored.push(JSON.stringify(event.object));
    }),
  );
  const saved = process.env[PROVIDER_KEY];
  process.env[PROVIDER_KEY] = secrets.providerKey;
  try {
    const run = await t.run({
      agentId,
      authToken: secrets.token,
      config: { env: { [CONFIG_KEY]: secrets.configValue } },
      scenario: { ...scenario, recordInvocationTo: recording },
    });
    await t.expectCleanCluster(agentId);
    const { env } = await t.readRecording(recording);
    return { run, secrets, stored, agentEnv: env };
  } finally {
    for (const stop of unsubscribe) stop();
    if (saved === undefined) delete process.env[PROVIDER_KEY];
    else process.env[PROVIDER_KEY] = saved;
  }
}

/** Everything the run handed to Paperclip, as text. */
function everythingReturned(run: ScenarioRun): string[] {
  const { run: recorded, result } = run;
  return [...recorded.stdout, ...recorded.stderr, JSON.stringify(recorded.meta), JSON.stringify(recorded.progress), JSON.stringify(result)];
}

function expectNowhere(texts: readonly string[], secrets: RunSecrets): void {
  for (const secret of Object.values(secrets)) {
    for (const form of [secret, Buffer.from(secret).toString("base64")]) {
      for (const text of texts) expect(text).not.toContain(form);
    }
  }
}

/** `text` split where the agent writes the value of `env` instead of `before` (JSON-escaped, as in its NDJSON). */
function withSecretBefore(text: string, before: string, env: string): Chunk[] {
  const escaped = JSON.stringify(before).slice(1, -1);
  const pieces = text.split(escaped);
  return pieces.flatMap((piece, index) => (index === 0 ? [{ text: piece }] : [{ env }, { text: ` ${escaped}${piece}` }]));
}

/** Issue 11: a secret the agent prints is redacted everywhere Paperclip sees it, and no log tail is copied into the Pod. */
export function secretRedactionScenarios<TParsed>(get: () => ConformanceContext<TParsed>): void {
  it("secrets the agent prints on stdout, on stderr, split across writes and in its summary never reach Paperclip or the stored Pod and Job", async () => {
    const t = get();
    const happy = t.options.transcripts.happy;
    // The summary's last line is one piece of the agent's text (CLIs that join several pieces join them with newlines).
    const summaryEnd = t.expectedVerdict(happy).summary?.split("\n").at(-1);
    if (!summaryEnd) throw new Error(`transcript ${happy} has no summary to carry a secret`);
    const transcript = withSecretBefore(t.fixture(happy).stdout, summaryEnd, PROVIDER_KEY);
    expect(transcript.length, "the summary appears in the transcript").toBeGreaterThan(1);
    const { run, secrets, stored, agentEnv } = await runWithSecrets(t, {
      chunks: [
        { text: `${JSON.stringify({ type: "debug" }).slice(0, -1)},"key":"` },
        { env: PROVIDER_KEY },
        { text: '","jwt":"' },
        { env: TOKEN_KEY },
        { text: '"}\n' },
        { text: "config value: ", stream: "stderr" },
        { env: CONFIG_KEY, stream: "stderr" },
        { text: "\n", stream: "stderr" },
        // Split across writes far enough apart that the runtime reads the first part on its own.
        { text: "split: " },
        { env: TOKEN_KEY, to: 9 },
        { env: TOKEN_KEY, from: 9, delayMs: 400 },
        { text: "\n" },
        { text: "split on stderr: ", stream: "stderr" },
        { env: PROVIDER_KEY, to: 5, stream: "stderr" },
        { env: PROVIDER_KEY, from: 5, delayMs: 400, stream: "stderr" },
        { text: "\n", stream: "stderr" },
        ...transcript,
      ],
    });

    expect(agentEnv[PROVIDER_KEY]).toBe(secrets.providerKey);
    expect(agentEnv[TOKEN_KEY]).toBe(secrets.token);
    expect(agentEnv[CONFIG_KEY]).toBe(secrets.configValue);
    expect(run.result.exitCode).toBe(0);
    expectNowhere([...everythingReturned(run), ...stored], secrets);
    expect(stored.some((object) => object.includes('"kind":"Pod"'))).toBe(true);

    // The lines arrived, with markers where the secrets were.
    const stdout = run.run.stdout.join("");
    const stderr = run.run.stderr.join("");
    const debugLine = run.run.transcript().find((line) => line.includes('"debug"')) ?? "";
    expect(JSON.parse(debugLine)).toEqual({ type: "debug", key: redactionMarker(PROVIDER_KEY), jwt: redactionMarker(TOKEN_KEY) });
    expect(stdout).toContain(`split: ${redactionMarker(TOKEN_KEY)}\n`);
    expect(stderr).toContain(`config value: ${redactionMarker(CONFIG_KEY)}\n`);
    expect(stderr).toContain(`split on stderr: ${redactionMarker(PROVIDER_KEY)}\n`);
    expect(run.result.summary?.endsWith(`${redactionMarker(PROVIDER_KEY)} ${summaryEnd}`)).toBe(true);
  });

  it("a secret in the agent's last words before a non-zero exit is redacted in the error message; no log tail lands in the Pod", async () => {
    const t = get();
    const { run, secrets, stored } = await runWithSecrets(t, {
      chunks: [
        { text: "fatal: the provider refused key ", stream: "stderr" },
        { env: PROVIDER_KEY, stream: "stderr" },
        { text: " for run token ", stream: "stderr" },
        { env: TOKEN_KEY, stream: "stderr" },
        { text: "\n", stream: "stderr" },
        { text: "last words on stdout: " },
        { env: CONFIG_KEY },
        { text: "\n" },
      ],
      exitCode: 3,
    });
    expect(run.result.exitCode).toBe(3);
    expect(run.result.errorMessage).toBeTruthy();
    expectNowhere([...everythingReturned(run), ...stored], secrets);
    // The agent's own words reach the result (they are the diagnosis), with markers in place of the secrets.
    expect(JSON.stringify(run.result)).toContain(`refused key ${redactionMarker(PROVIDER_KEY)} for run token ${redactionMarker(TOKEN_KEY)}`);
    // No copy of the log in the Pod's status, redacted or not.
    for (const object of stored) expect(object).not.toContain("last words on stdout");
  });
}
