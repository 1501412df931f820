import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LlmScenario, ScriptedCli, ScriptedShellTool } from "./scenario.ts";
import { FINAL_TEXT, SCRIPTED_COMMAND } from "./scenario.ts";
import { startScriptedLlmServer, type ScriptedLlmServer } from "./server.ts";

let server: ScriptedLlmServer;
beforeEach(async () => {
  server = await startScriptedLlmServer({ slowEventMs: 1, retryAfterMs: 7 });
});
afterEach(async () => {
  await server.stop();
});

const bashTool = { name: "Bash", description: "Run a command", input_schema: { type: "object", required: ["command", "description"] } };
const prompt = { role: "user", content: "Create out.txt" };
const toolResult = { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "" }] };

/** Claude's shell tool, as its real-CLI spec describes it. */
const claudeShell: ScriptedShellTool = { name: "Bash", input: (command) => ({ command, description: "Write hello to out.txt" }) };
const openCodeShell: ScriptedShellTool = { name: "bash", input: (command) => ({ command }) };
const codexShell: ScriptedShellTool = { name: "exec_command", input: (cmd) => ({ cmd }) };

function open(scenario: LlmScenario, tag: string, shellTool: ScriptedShellTool = claudeShell, cli: Omit<ScriptedCli, "shellTool"> = {}): string {
  return server.openRun({ scenario, tag, cli: { shellTool, ...cli } });
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** The JSON `data` of every server-sent event in a stream. */
function sseData(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice("data: ".length)));
}

describe("Anthropic Messages", () => {
  it("streams a tool call with input_json_delta, then final text once the tool result is back", async () => {
    const url = `${open("happy", "a1")}/v1/messages?beta=true`;
    const first = sseData(await (await post(url, { model: "m", stream: true, tools: [bashTool], messages: [prompt] })).text());
    expect(first.map((event) => event.type)).toContain("message_start");
    const toolStart = first.find((event) => event.type === "content_block_start" && JSON.stringify(event).includes("tool_use"));
    expect(toolStart).toMatchObject({ content_block: { type: "tool_use", name: "Bash" } });
    const json = first
      .filter((event) => JSON.stringify(event).includes("input_json_delta"))
      .map((event) => (event.delta as { partial_json: string }).partial_json)
      .join("");
    expect(JSON.parse(json)).toEqual({ command: SCRIPTED_COMMAND, description: "Write hello to out.txt" });
    expect(first.at(-2)).toMatchObject({ type: "message_delta", delta: { stop_reason: "tool_use" } });

    const second = sseData(await (await post(url, { model: "m", stream: true, tools: [bashTool], messages: [prompt, toolResult] })).text());
    const text = second.filter((event) => event.type === "content_block_delta").map((event) => (event.delta as { text: string }).text);
    expect(text.join("")).toBe(FINAL_TEXT);
    expect(server.requests("a1").map((record) => record.reply)).toEqual(["tool:Bash", "text"]);
  });

  it("answers without streaming when asked to", async () => {
    const url = `${open("happy", "a2")}/v1/messages`;
    const body = await (await post(url, { model: "m", tools: [bashTool], messages: [prompt, toolResult] })).json();
    expect(body).toMatchObject({ type: "message", model: "m", content: [{ type: "text", text: FINAL_TEXT }], stop_reason: "end_turn" });
  });

  it("errors with the API's status, error type and retry hints", async () => {
    const response = await post(`${open("error429", "a3")}/v1/messages`, { model: "m", messages: [prompt] });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("retry-after-ms")).toBe("7");
    expect(await response.json()).toEqual({ type: "error", error: { type: "rate_limit_error", message: expect.any(String) } });
    const overloaded = await post(`${open("error529", "a3b")}/v1/messages`, { model: "m", messages: [prompt] });
    expect(overloaded.status).toBe(529);
  });

  it("cuts the first final-text stream mid-way and serves the next one whole", async () => {
    const url = `${open("cut", "a4")}/v1/messages`;
    const request = { model: "m", stream: true, tools: [bashTool], messages: [prompt, toolResult] };
    await expect((await post(url, request)).text()).rejects.toThrow();
    const again = sseData(await (await post(url, request)).text());
    expect(again.at(-1)).toEqual({ type: "message_stop" });
  });

  it("empty: a well-formed message with no content and 0 output tokens", async () => {
    const events = sseData(await (await post(`${open("empty", "a5")}/v1/messages`, { model: "m", stream: true, messages: [prompt] })).text());
    expect(events.some((event) => event.type === "content_block_start")).toBe(false);
    expect(events.at(-2)).toMatchObject({ type: "message_delta", usage: { output_tokens: 0 } });
  });
});

describe("OpenAI chat completions", () => {
  const shell = { type: "function", function: { name: "bash", parameters: { type: "object", required: ["command"] } } };

  it("streams tool_calls, then text, with usage and [DONE]", async () => {
    const url = `${open("happy", "o1", openCodeShell)}/v1/chat/completions`;
    const raw = await (await post(url, { model: "m", stream: true, tools: [shell], messages: [prompt] })).text();
    expect(raw.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const chunks = sseData(raw);
    const calls = chunks.flatMap((chunk) => (chunk.choices as { delta: { tool_calls?: { function: { name?: string; arguments: string } }[] } }[]).flatMap((choice) => choice.delta.tool_calls ?? []));
    expect(calls[0]?.function.name).toBe("bash");
    expect(JSON.parse(calls.map((call) => call.function.arguments).join(""))).toEqual({ command: SCRIPTED_COMMAND });
    expect(chunks.find((chunk) => JSON.stringify(chunk).includes('"finish_reason":"tool_calls"'))).toBeDefined();
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) } });

    const toolMessage = { role: "tool", tool_call_id: "call_1", content: "" };
    const body = await (await post(url, { model: "m", tools: [shell], messages: [prompt, toolMessage] })).json();
    expect(body).toMatchObject({ object: "chat.completion", choices: [{ message: { content: FINAL_TEXT }, finish_reason: "stop" }] });
  });

  it("loop: always a tool call, until tools are switched off", async () => {
    const url = `${open("loop", "o2", openCodeShell)}/v1/chat/completions`;
    const toolMessage = { role: "tool", tool_call_id: "call_1", content: "" };
    const call = await (await post(url, { model: "m", tools: [shell], messages: [prompt, toolMessage] })).json();
    expect(call).toMatchObject({ choices: [{ finish_reason: "tool_calls" }] });
    const last = await (await post(url, { model: "m", tools: [shell], tool_choice: "none", messages: [prompt, toolMessage] })).json();
    expect(last).toMatchObject({ choices: [{ finish_reason: "stop" }] });
  });

  it("loop: text once the last message carries the CLI's step-limit notice, and only that CLI's", async () => {
    const spent = { role: "user", content: "STEPS ARE SPENT. Answer in text." };
    const noticed = await (await post(`${open("loop", "o3", openCodeShell, { stepLimitNotice: "STEPS ARE SPENT" })}/v1/chat/completions`, { model: "m", tools: [shell], messages: [prompt, spent] })).json();
    expect(noticed).toMatchObject({ choices: [{ finish_reason: "stop", message: { content: FINAL_TEXT } }] });
    const other = await (await post(`${open("loop", "o4", openCodeShell)}/v1/chat/completions`, { model: "m", tools: [shell], messages: [prompt, spent] })).json();
    expect(other).toMatchObject({ choices: [{ finish_reason: "tool_calls" }] });
  });
});

describe("OpenAI Responses", () => {
  // Shaped as Codex 0.171 sends them: developer/user messages as typed input items, its `exec_command` shell tool.
  const execCommand = { type: "function", name: "exec_command", strict: false, parameters: { type: "object", required: ["cmd"] } };
  const webSearch = { type: "web_search" };
  const user = { type: "message", role: "user", content: [{ type: "input_text", text: "Create out.txt" }] };
  const request = (input: unknown[], extra: Record<string, unknown> = {}) => ({
    model: "scripted-model",
    stream: true,
    tool_choice: "auto",
    tools: [execCommand, webSearch],
    input,
    ...extra,
  });

  it("streams a function call, then final text once the call's output is back, ending with response.completed and usage", async () => {
    const url = `${open("happy", "r1", codexShell)}/v1/responses`;
    const raw = await (await post(url, request([user]))).text();
    const events = sseData(raw);
    expect(raw).toMatch(/^event: response\.created\n/);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const done = events.filter((event) => event.type === "response.output_item.done").map((event) => event.item as Record<string, unknown>);
    expect(done.map((item) => item.type)).toEqual(["message", "function_call"]);
    const call = done[1] as { name: string; call_id: string; arguments: string };
    expect(call.name).toBe("exec_command");
    expect(JSON.parse(call.arguments)).toEqual({ cmd: SCRIPTED_COMMAND });
    const argumentDeltas = events.filter((event) => event.type === "response.function_call_arguments.delta").map((event) => event.delta);
    expect(argumentDeltas.join("")).toBe(call.arguments);
    expect(events.at(-1)).toMatchObject({
      type: "response.completed",
      response: { status: "completed", output: done, usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) } },
    });

    const answered = [user, { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments }, { type: "function_call_output", call_id: call.call_id, output: "" }];
    const second = sseData(await (await post(url, request(answered))).text());
    const text = second.filter((event) => event.type === "response.output_text.delta").map((event) => event.delta);
    expect(text.join("")).toBe(FINAL_TEXT);
    expect(server.requests("r1").map((record) => [record.api, record.reply, record.messageCount])).toEqual([
      ["openai-responses", "tool:exec_command", 1],
      ["openai-responses", "text", 3],
    ]);
  });

  it("empty: response.completed with no output items and 0 output tokens", async () => {
    const events = sseData(await (await post(`${open("empty", "r2", codexShell)}/v1/responses`, request([user]))).text());
    expect(events.map((event) => event.type)).toEqual(["response.created", "response.completed"]);
    expect(events.at(-1)).toMatchObject({ response: { output: [], usage: { output_tokens: 0 } } });
  });

  it("errors with the status and an OpenAI error body", async () => {
    const response = await post(`${open("error401", "r3", codexShell)}/v1/responses`, request([user]));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: expect.any(String), type: "authentication_error", code: "authentication_error", param: null } });
  });

  it("refuses requests the API would refuse, naming what is wrong", async () => {
    const url = `${open("happy", "r4", codexShell)}/v1/responses`;
    const refusals = [
      [{ stream: true, input: [user] }, /^model must be/],
      [{ model: "m", messages: [user] }, /^input must be a list/],
      [request([{ role: "user", content: "x" }]), /^input\[0\] must be an object with a type/],
      [request([user, { type: "function_call_output", call_id: "call_x", output: "" }]), /answers no earlier function_call/],
      [request([user], { tools: [{ type: "function", parameters: {} }] }), /^tools\[0\] is a function tool without a name/],
    ] as const;
    for (const [body, message] of refusals) {
      const response = await post(url, body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect(server.requests("r4").map((record) => record.status)).toEqual([400, 400, 400, 400, 400]);
  });

  it("stall: the final text stops after its first delta, with no response.completed", async () => {
    const call = { type: "function_call", call_id: "call_1", name: "exec_command", arguments: "{}" };
    const response = await post(`${open("stall", "r5", codexShell)}/v1/responses`, request([user, call, { type: "function_call_output", call_id: "call_1", output: "" }]));
    const reader = response.body?.getReader();
    let seen = "";
    while (!seen.includes("response.output_text.delta")) seen += new TextDecoder().decode((await reader?.read())?.value);
    expect(seen).not.toContain("response.completed");
    await reader?.cancel();
  });
});

describe("Gemini API", () => {
  // As Gemini CLI 0.61 sends them: the model in the path, tools as functionDeclarations with parametersJsonSchema,
  // a tool's result as a user turn with a functionResponse part.
  const tools = [
    {
      functionDeclarations: [
        { name: "read_file", parametersJsonSchema: { type: "object", required: ["file_path"] } },
        { name: "run_shell_command", parametersJsonSchema: { type: "object", required: ["command"] } },
      ],
    },
  ];
  const user = { role: "user", parts: [{ text: "<session_context>…</session_context>" }, { text: "Create out.txt" }] };
  const call = { role: "model", parts: [{ functionCall: { name: "run_shell_command", args: { command: SCRIPTED_COMMAND } } }] };
  const result = { role: "user", parts: [{ functionResponse: { id: "c1", name: "run_shell_command", response: { output: "" } } }] };
  const geminiShell: ScriptedShellTool = { name: "run_shell_command", input: (command) => ({ command }) };
  const streamUrl = (scenario: LlmScenario, tag: string) => `${open(scenario, tag, geminiShell)}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`;

  it("streams a functionCall for the shell tool, then final text once the functionResponse is back", async () => {
    const first = sseData(await (await post(streamUrl("happy", "g1"), { contents: [user], tools })).text());
    expect(first.at(-1)).toMatchObject({
      candidates: [{ content: { role: "model", parts: [{ functionCall: { name: "run_shell_command", args: { command: SCRIPTED_COMMAND } } }] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: expect.any(Number), candidatesTokenCount: expect.any(Number) },
      modelVersion: "gemini-2.5-flash",
    });
    const second = sseData(await (await post(`${server.origin}/s/happy~g1/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, { contents: [user, call, result], tools })).text());
    const text = second.flatMap((chunk) => (chunk.candidates as { content: { parts: { text?: string }[] } }[])[0]?.content.parts ?? []);
    expect(text.map((part) => part.text ?? "").join("")).toBe(FINAL_TEXT);
    expect(server.requests("g1").map((record) => [record.api, record.model, record.stream, record.messageCount, record.reply])).toEqual([
      ["gemini", "gemini-2.5-flash", true, 1, "tool:run_shell_command"],
      ["gemini", "gemini-2.5-flash", true, 3, "text"],
    ]);
  });

  it("answers :generateContent whole (the CLI's routing requests)", async () => {
    const url = `${open("happy", "g2", geminiShell)}/v1beta/models/gemini-2.5-flash-lite:generateContent`;
    const body = await (await post(url, { contents: [user], generationConfig: { responseMimeType: "application/json" } })).json();
    expect(body).toMatchObject({ candidates: [{ content: { parts: [{ text: FINAL_TEXT }] }, finishReason: "STOP" }], modelVersion: "gemini-2.5-flash-lite" });
    expect(server.requests("g2").map((record) => [record.api, record.stream])).toEqual([["gemini", false]]);
  });

  it("errors in the Gemini API's shape; empty is a STOP with no parts and no output tokens", async () => {
    const refused = await post(streamUrl("error401", "g3"), { contents: [user], tools });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: { code: 401, message: expect.any(String), status: "UNAUTHENTICATED" } });
    expect((await post(streamUrl("error500", "g5"), { contents: [user] })).status).toBe(500);
    const empty = sseData(await (await post(streamUrl("empty", "g6"), { contents: [user], tools })).text());
    expect(empty).toEqual([
      { candidates: [{ content: { role: "model", parts: [] }, index: 0, finishReason: "STOP" }], usageMetadata: expect.not.objectContaining({ candidatesTokenCount: expect.anything() }), modelVersion: "gemini-2.5-flash" },
    ]);
  });

  it("stall: the final text stops after its first chunk", async () => {
    const response = await post(streamUrl("stall", "g4"), { contents: [user, call, result], tools });
    const reader = response.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    expect(sseData(first)).toEqual([expect.objectContaining({ candidates: [expect.not.objectContaining({ finishReason: "STOP" })] })]);
    await reader?.cancel();
  });
});

describe("runs and lifecycle", () => {
  it("refuses unknown scenarios and paths outside a run, and records them", async () => {
    const unknown = await post(`${server.origin}/s/nope~x/v1/messages`, {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { message: expect.stringMatching(/^unknown scenario "nope"; known: happy, /) } });
    expect((await fetch(`${server.origin}/v1/messages`)).status).toBe(404);
    expect(server.requests().map((record) => record.status)).toEqual([404, 404]);
    expect(() => open("happy", "bad tag")).toThrow(/run tag/);
    open("happy", "once");
    expect(() => open("loop", "once")).toThrow(/already open/);
  });

  it("refuses a run that was not opened: its shell tool is unknown", async () => {
    const response = await post(`${server.origin}/s/happy~never/v1/messages`, { model: "m", tools: [bashTool], messages: [prompt] });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { message: 'run tag "never" was not opened (openRun)' } });
  });

  it("calls the run's shell tool with the spec's arguments, and no other tool whatever its name", async () => {
    const gemini: ScriptedShellTool = { name: "run_shell_command", input: (command) => ({ command, dir_path: "." }) };
    const url = `${open("happy", "g1", gemini)}/v1/messages`;
    const runShell = { name: "run_shell_command", input_schema: { type: "object" } };
    const call = await (await post(url, { model: "m", tools: [bashTool, runShell], messages: [prompt] })).json();
    expect(call).toMatchObject({ content: [{ type: "text" }, { type: "tool_use", name: "run_shell_command", input: { command: SCRIPTED_COMMAND, dir_path: "." } }] });
    // A request offering only a shell-like tool of another name gets text: nothing is guessed.
    const titled = await (await post(url, { model: "m", tools: [bashTool], messages: [prompt] })).json();
    expect(titled).toMatchObject({ content: [{ type: "text", text: FINAL_TEXT }], stop_reason: "end_turn" });
    expect(server.requests("g1").map((record) => record.reply)).toEqual(["tool:run_shell_command", "text"]);
  });

  it("stop() ends a stalled stream and closes the server", async () => {
    const url = `${open("stall", "s1")}/v1/messages`;
    const response = await post(url, { model: "m", stream: true, tools: [bashTool], messages: [prompt, toolResult] });
    const reader = response.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain("message_start");
    await server.stop();
    await expect(reader?.read()).rejects.toThrow();
    await expect(fetch(server.origin)).rejects.toThrow();
    server = await startScriptedLlmServer();
  });
});
