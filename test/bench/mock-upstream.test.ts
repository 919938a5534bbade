import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MOCK_MODEL, type MockUpstream, startMockUpstream } from "./mock-upstream.js";

let upstream: MockUpstream;
let client: OpenAI;
beforeAll(async () => {
  upstream = await startMockUpstream();
  client = new OpenAI({ baseURL: upstream.url, apiKey: "x", maxRetries: 0 });
});
afterAll(() => upstream.close());

describe("the bench's mock upstream, read by the official OpenAI SDK", () => {
  it("answers a chat completion with usage, echoing the requested model", async () => {
    const answer = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(answer.object).toBe("chat.completion");
    expect(answer.model).toBe("gpt-4o-mini");
    expect(answer.choices[0]?.message.content).toBe("Hello from the mock upstream.");
    expect(answer.usage?.total_tokens).toBe(17);
  });

  it("streams chunks that add up to the reply, a usage chunk when asked, then [DONE]", async () => {
    const stream = await client.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage ??= chunk.usage ?? undefined;
    }
    expect(text).toBe("Hello from the mock upstream.");
    expect(usage).toEqual({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
  });

  it("lists its model, and answers 404 in OpenAI's error shape elsewhere", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MOCK_MODEL]);
    const res = await fetch(`${upstream.url}/embeddings`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("runs as its own process, printing its URL as one JSON line and stopping on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/bench/mock-upstream.ts", "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    const { msg, url } = JSON.parse(line) as { msg: string; url: string };
    expect(msg).toBe("listening");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect((await fetch(`${url}/models`)).status).toBe(200);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
