import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { type RunningGateway, startGateway } from "../../host/main.js";

// The built-in runner on the tiny demo model, through the whole gateway over HTTP: what a user of a
// fresh install gets from `npm start` with no configuration.

let gateway: RunningGateway;
let dataDir: string;

interface Ready {
  runner: { status: string; pid?: number; restarts: number; models: { id: string; state: string }[] };
}

const ready = async (): Promise<Ready> => (await (await fetch(`${gateway.url}/ready`)).json()) as Ready;

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const chat = (extra: Record<string, unknown> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "auto",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 16,
      ...extra,
    }),
  });

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
    const res = await chat({ stream: true, max_tokens: 400 });
    const reader = res.body?.getReader();
    expect((await reader?.read())?.done).toBe(false);
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
