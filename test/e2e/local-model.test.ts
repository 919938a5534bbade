import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { type RunningGateway, startGateway } from "../../host/main.js";
import { ensureTinyModel } from "../../host/models/tiny-model.js";
import { LONG_ANSWER } from "../runner/helpers.js";

// The built-in runner on the tiny demo model, through the whole gateway over HTTP: what a user of a
// fresh install gets from `npm start` with no configuration.

let gateway: RunningGateway;
let dataDir: string;

interface Ready {
  runner: {
    status: string;
    pid?: number;
    restarts: number;
    models: { id: string; state: string; running: number; queued: number }[];
  };
}

const ready = async (): Promise<Ready> => (await (await fetch(`${gateway.url}/ready`)).json()) as Ready;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const chatOn = (gw: RunningGateway, extra: Record<string, unknown> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 16,
      ...extra,
    }),
  });
const chat = (extra: Record<string, unknown> = {}) => chatOn(gateway, extra);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "gw-local-"));
  const config = gatewayConfigSchema.parse({
    server: { port: 0, dataDir },
    log: { level: "silent" },
    models: { threads: 1 },
  });
  gateway = await startGateway(config, { logger: createLogger({ level: "silent" }), handleSignals: false });
  await until(async () => (await ready()).runner.models.some((m) => m.state === "loaded"), 20_000);
}, 30_000);

afterAll(async () => {
  await gateway?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the tiny model through the gateway, with no configuration", () => {
  it("answers a JSON completion from local/tiny-demo with usage", async () => {
    const res = await chat();
    expect(res.status).toBe(200);
    expect(res.headers.get("x-edge-target")).toBe("local/tiny-demo");
    const body = (await res.json()) as {
      choices: { message: { content: string } }[];
      usage: { completion_tokens: number };
    };
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
  });

  it("streams a completion as SSE ending in [DONE]", async () => {
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('"object":"chat.completion.chunk"');
    expect(text).toContain('"usage"');
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("returns output that parses and matches a JSON schema", async () => {
    const schema = {
      type: "object",
      properties: { ok: { type: "boolean" }, n: { type: "integer" } },
      required: ["ok", "n"],
      additionalProperties: false,
    };
    const res = await chat({
      max_tokens: 64,
      response_format: { type: "json_schema", json_schema: { name: "t", schema } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    const parsed = JSON.parse(body.choices[0]?.message.content ?? "") as { ok: unknown; n: unknown };
    expect(typeof parsed.ok).toBe("boolean");
    expect(Number.isInteger(parsed.n)).toBe(true);
  });

  it("serves two requests on the model at once", async () => {
    const [a, b] = await Promise.all([chat(), chat()]);
    expect(a?.status).toBe(200);
    expect(b?.status).toBe(200);
  });

  it("recovers when the runner is killed mid-request: that request fails, the next one is served", async () => {
    const before = await ready();
    const pid = before.runner.pid;
    expect(pid).toBeGreaterThan(0);
    expect(before.runner.models.find((m) => m.id === "tiny-demo")).toMatchObject({ running: 0, queued: 0 });
    const res = await chat({ stream: true, max_tokens: 400 });
    const reader = res.body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
    // /ready counts the generation in flight on its model.
    expect((await ready()).runner.models.find((m) => m.id === "tiny-demo")?.running).toBe(1);
    process.kill(pid as number, "SIGKILL");
    let text = "";
    for (let r = await reader?.read(); r && !r.done; r = await reader?.read())
      text += Buffer.from(r.value).toString();
    // The stream had started, so it ends with an error event rather than a silent cut.
    expect(text).toContain('"error"');
    await until(async () => {
      const now = await ready();
      return (
        now.runner.restarts > before.runner.restarts && now.runner.models.some((m) => m.state === "loaded")
      );
    }, 10_000);
    const after = await chat();
    expect(after.status).toBe(200);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });
});

describe("a corrupt model file next to a good one", () => {
  let gw: RunningGateway;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-models-"));
    const models = join(dir, "models");
    mkdirSync(join(models, "tiny"), { recursive: true });
    const tiny = join(models, "tiny", "tiny-demo.gguf");
    await ensureTinyModel(tiny);
    writeFileSync(
      join(models, "tiny-demo.yaml"),
      "id: tiny-demo\nfile: tiny/tiny-demo.gguf\ncontextSize: 512\nthreads: 1\nmemoryMb: 33\n",
    );
    // The same model cut off halfway: what a failed copy or a full disk leaves behind.
    writeFileSync(join(models, "broken.gguf"), readFileSync(tiny).subarray(0, 200_000));
    writeFileSync(
      join(models, "broken.yaml"),
      "id: broken\nfile: broken.gguf\ncontextSize: 512\nthreads: 1\nmemoryMb: 33\n",
    );
    const config = gatewayConfigSchema.parse({
      server: { port: 0, dataDir: join(dir, "data") },
      log: { level: "silent" },
      models: { dir: models },
    });
    gw = await startGateway(config, { logger: createLogger({ level: "silent" }), handleSignals: false });
  }, 30_000);

  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is refused in the gateway with a clear reason while the good model serves", async () => {
    let models: { id: string; state: string; error?: string }[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      models = (
        (await (await fetch(`${gw.url}/ready`)).json()) as Ready & { runner: { models: typeof models } }
      ).runner.models;
      if (
        models.some((m) => m.id === "tiny-demo" && m.state === "loaded") &&
        models.some((m) => m.id === "broken" && m.error)
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const broken = models.find((m) => m.id === "broken");
    expect(broken?.state).toBe("refused");
    expect(broken?.error).toMatch(/broken\.gguf/);
    expect(broken?.error).toMatch(/truncat|beyond|end of the file/i);
    const res = await chatOn(gw, { model: "local/tiny-demo", max_tokens: 8 });
    expect(res.status).toBe(200);
    const refused = await chatOn(gw, { model: "local/broken", max_tokens: 8 });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(refused.status).toBeLessThan(600);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBeTruthy();
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });
});

describe("a streaming client that goes away mid-answer", () => {
  // One sequence and room for a long answer: the runner can serve nothing else until it stops, and a
  // generation left to run would take about a second rather than the milliseconds an abort takes.
  const MAX_TOKENS = 1_800;
  let gw: RunningGateway;
  let dir: string;

  /** A counter's value on /metrics; 0 while the series does not exist yet. */
  async function counter(series: string): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  }
  const ABORTED = 'gateway_model_generations_total{model="tiny-demo",outcome="aborted"}';
  const ABORTED_TOKENS = 'gateway_model_generated_tokens_total{model="tiny-demo",outcome="aborted"}';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-abort-"));
    const models = join(dir, "models");
    mkdirSync(join(models, "tiny"), { recursive: true });
    await ensureTinyModel(join(models, "tiny", "tiny-demo.gguf"));
    writeFileSync(
      join(models, "tiny-demo.yaml"),
      "id: tiny-demo\nfile: tiny/tiny-demo.gguf\ncontextSize: 2048\nsequences: 1\nthreads: 1\nmemoryMb: 33\n",
    );
    const config = gatewayConfigSchema.parse({
      server: { port: 0, dataDir: join(dir, "data") },
      log: { level: "silent" },
      models: { dir: models },
    });
    gw = await startGateway(config, { logger: createLogger({ level: "silent" }), handleSignals: false });
    await until(async () => {
      const state = (await (await fetch(`${gw.url}/ready`)).json()) as Ready;
      return state.runner.models.some((m) => m.state === "loaded");
    }, 20_000);
  }, 30_000);

  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stops the generation in the runner, frees the sequence for the next request, and keeps serving", async () => {
    const abortedBefore = await counter(ABORTED);
    const tokensBefore = await counter(ABORTED_TOKENS);
    const client = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "local/tiny-demo",
        messages: [{ role: "user", content: "Tell me a long story." }],
        max_tokens: MAX_TOKENS,
        stream: true,
        ...LONG_ANSWER,
      }),
      signal: client.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = "";
    // Some content chunks first (the role chunk carries an empty one): the client goes away mid-answer.
    while (text.split('"delta":{"content":"').length - 1 < 3) {
      const r = await reader.read();
      expect(r.done).toBe(false);
      text += Buffer.from(r.value as Uint8Array).toString();
    }
    client.abort();
    await expect(reader.read()).rejects.toThrow();

    // The one sequence is busy until the runner stops the aborted generation: this request is served
    // only once it has.
    const next = await chatOn(gw, { model: "local/tiny-demo", max_tokens: 8 });
    expect(next.status).toBe(200);
    expect(
      ((await next.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens,
    ).toBeGreaterThan(0);

    // The runner's own confirmation: the generation ended as aborted, well short of its max_tokens.
    await until(async () => (await counter(ABORTED)) === abortedBefore + 1, 5_000);
    const generated = (await counter(ABORTED_TOKENS)) - tokensBefore;
    expect(generated).toBeGreaterThan(0);
    expect(generated).toBeLessThan(MAX_TOKENS / 2);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });
});
