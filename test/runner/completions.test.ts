/**
 * End to end on the tiny model: the llama-cpp provider, the supervisor, and node-llama-cpp in the
 * runner child (threads 1). What a client gets: JSON and SSE answers, usage, stop sequences,
 * max_tokens, seeded sampling, JSON and JSON-schema output, abort, two requests at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLlamaCppProvider } from "../../host/providers/llama-cpp/index.js";
import type { Provider } from "../../host/providers/types.js";
import type { GenerationEnd } from "../../host/runner/events.js";
import type { RunnerSupervisor } from "../../host/runner/supervisor.js";
import { LONG_ANSWER, startRunner, tinySpec, until } from "./helpers.js";

const CHAT = { model: "tiny", messages: [{ role: "user", content: "Write a story." }] };
const opts = (signal = new AbortController().signal) => ({ signal, requestId: "req-runner" });

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** The parsed `data:` events of an SSE stream, `[DONE]` as the string. */
function sseEvents(text: string): unknown[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      const data = event.slice("data: ".length);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

let supervisor: RunnerSupervisor;
let provider: Provider;

beforeAll(async () => {
  supervisor = await startRunner({ models: [tinySpec({ sequences: 2, maxQueue: 2 })] });
  provider = createLlamaCppProvider({ name: "local/tiny", supervisor, model: "tiny" });
});
afterAll(async () => {
  await supervisor?.close();
});

describe("completions on the tiny model", () => {
  it("answers a JSON completion with the assistant's text, finish_reason and consistent usage", async () => {
    const res = await provider.call("chat/completions", { ...CHAT, temperature: 0, max_tokens: 24 }, opts());
    const json = JSON.parse(await readText(res.body));
    expect(json).toMatchObject({ object: "chat.completion", model: "tiny" });
    expect(json.id).toMatch(/^chatcmpl-/);
    expect(json.choices).toHaveLength(1);
    expect(json.choices[0].message.role).toBe("assistant");
    expect(typeof json.choices[0].message.content).toBe("string");
    expect(["stop", "length"]).toContain(json.choices[0].finish_reason);
    const { prompt_tokens, completion_tokens, total_tokens } = json.usage;
    expect(prompt_tokens).toBeGreaterThan(5);
    expect(completion_tokens).toBeGreaterThan(0);
    expect(completion_tokens).toBeLessThanOrEqual(24);
    expect(total_tokens).toBe(prompt_tokens + completion_tokens);
  });

  it("streams the same greedy answer as SSE: role chunk, deltas, finish chunk, usage chunk, [DONE]", async () => {
    const body = { ...CHAT, temperature: 0, max_tokens: 24 };
    const json = JSON.parse(await readText((await provider.call("chat/completions", body, opts())).body));
    const streamed = { ...body, stream: true, stream_options: { include_usage: true } };
    const events = sseEvents(
      await readText((await provider.call("chat/completions", streamed, opts())).body),
    );
    type Chunk = {
      object: string;
      choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
      usage: unknown;
    };
    const chunks = events.slice(0, -1) as Chunk[];
    expect(events.at(-1)).toBe("[DONE]");
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: "assistant", content: "" });
    const finish = chunks.at(-2);
    expect(finish?.choices[0]?.finish_reason).toBe(json.choices[0].finish_reason);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: json.usage });
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(content).toBe(json.choices[0].message.content);
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const res = await provider.call("chat/completions", { ...CHAT, ...LONG_ANSWER, max_tokens: 16 }, opts());
    const json = JSON.parse(await readText(res.body));
    expect(json.choices[0].finish_reason).toBe("length");
    expect(json.usage.completion_tokens).toBe(16);
  });

  it("gives the same text for the same seed and temperature", async () => {
    const body = { ...CHAT, temperature: 0.9, top_p: 0.95, seed: 42, max_tokens: 24 };
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const res = await provider.call("chat/completions", body, opts());
      answers.push(JSON.parse(await readText(res.body)).choices[0].message.content);
    }
    expect(answers[0]).toBe(answers[1]);
  });

  it("ends before a stop sequence and leaves it out of the answer", async () => {
    const body = { ...CHAT, ...LONG_ANSWER, max_tokens: 64 };
    const free = JSON.parse(await readText((await provider.call("chat/completions", body, opts())).body));
    const text: string = free.choices[0].message.content;
    // A stop sequence taken from the free answer's middle: the stopped answer is what came before it.
    const stop = [...text].slice(6, 8).join("");
    expect(stop.length).toBeGreaterThan(0);
    const res = await provider.call("chat/completions", { ...body, stop: [stop] }, opts());
    const stopped = JSON.parse(await readText(res.body));
    expect(stopped.choices[0].finish_reason).toBe("stop");
    expect(stopped.choices[0].message.content).toBe(text.slice(0, text.indexOf(stop)));
  });

  it("answers json_object with text that JSON.parse accepts", async () => {
    const body = { ...CHAT, temperature: 0, max_tokens: 200, response_format: { type: "json_object" } };
    const json = JSON.parse(await readText((await provider.call("chat/completions", body, opts())).body));
    expect(json.choices[0].finish_reason).toBe("stop");
    expect(() => JSON.parse(json.choices[0].message.content)).not.toThrow();
  });

  it("answers json_schema with JSON that parses and matches the schema", async () => {
    const schema = {
      type: "object",
      properties: {
        answer: { type: "string", enum: ["yes", "no", "maybe"] },
        confident: { type: "boolean" },
        tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 3 },
      },
      required: ["answer", "confident", "tags"],
      additionalProperties: false,
    };
    const body = {
      ...CHAT,
      temperature: 0,
      max_tokens: 200,
      response_format: { type: "json_schema", json_schema: { name: "verdict", strict: true, schema } },
      stream: true,
    };
    const events = sseEvents(await readText((await provider.call("chat/completions", body, opts())).body));
    const content = (events.slice(0, -1) as { choices: { delta: { content?: string } }[] }[])
      .map((c) => c.choices[0]?.delta.content ?? "")
      .join("");
    const value = JSON.parse(content);
    expect(Object.keys(value).sort()).toEqual(["answer", "confident", "tags"]);
    expect(["yes", "no", "maybe"]).toContain(value.answer);
    expect(typeof value.confident).toBe("boolean");
    expect(Array.isArray(value.tags)).toBe(true);
    for (const tag of value.tags) expect(["a", "b"]).toContain(tag);
  });

  it("refuses a schema the grammar compiler cannot compile with 400", async () => {
    const body = {
      ...CHAT,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { oneOf: 3 } } },
    };
    const err = await provider.call("chat/completions", body, opts()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "http", details: { status: 400 } });
  });

  it("stops generating in the child when the caller aborts mid-stream: no more tokens after the abort", async () => {
    const ends: GenerationEnd[] = [];
    const remove = supervisor.addListener({ generationEnd: (_model, _id, end) => ends.push(end) });
    const controller = new AbortController();
    const body = { ...CHAT, ...LONG_ANSWER, max_tokens: 900, stream: true };
    const res = await provider.call("chat/completions", body, opts(controller.signal));
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ kind: "aborted" });
    await until(() => ends.length === 1);
    remove();
    // The child confirmed the abort, and did so well before max_tokens.
    expect(ends[0]?.outcome).toBe("aborted");
    expect(ends[0]?.completionTokens).toBeLessThan(900);
    const model = supervisor.state().models[0];
    expect(model?.running).toBe(0);
  });

  it("serves two requests on one model at once (two sequences), both to completion", async () => {
    const starts: number[] = [];
    let maxRunning = 0;
    const remove = supervisor.addListener({
      generationStart: (_model, id) => {
        starts.push(id);
        maxRunning = Math.max(maxRunning, supervisor.state().models[0]?.running ?? 0);
      },
    });
    const body = { ...CHAT, ...LONG_ANSWER, max_tokens: 200 };
    const [a, b] = await Promise.all([
      provider.call("chat/completions", { ...body, seed: 1 }, opts()).then((r) => readText(r.body)),
      provider.call("chat/completions", { ...body, seed: 2 }, opts()).then((r) => readText(r.body)),
    ]);
    remove();
    expect(starts).toHaveLength(2);
    expect(maxRunning).toBe(2);
    for (const text of [a, b]) {
      const json = JSON.parse(text);
      expect(json.choices[0].finish_reason).toBe("length");
      expect(json.usage.completion_tokens).toBe(200);
    }
  });

  it("records load time and decode speed for the model", () => {
    const model = supervisor.state().models[0];
    expect(model?.state).toBe("loaded");
    expect(model?.loadMs).toBeGreaterThan(0);
    expect(model?.tokensPerSecond).toBeGreaterThan(0);
  });
});
