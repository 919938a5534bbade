// The official `openai` client against the real gateway on 127.0.0.1: what an application sees.
// Every call uses maxRetries: 0, so one SDK call is exactly one HTTP request and a typed error is
// the gateway's own answer, not the last of several retries.

import OpenAI, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  UnprocessableEntityError,
} from "openai";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { embedText } from "../fakes/openai-wire.js";
import { FREE_KEY, type Harness, KEY, startHarness } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

function client(apiKey = KEY): OpenAI {
  return new OpenAI({ baseURL: `${h.gateway.url}/v1`, apiKey, maxRetries: 0, timeout: 20_000 });
}

/** The APIError a call rejects with; anything else (or success) fails the test. */
async function rejection(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error("expected the SDK call to reject with an APIError");
}

const chatCalls = (upstream: Harness["cloud"]) =>
  upstream.requests.filter((r) => r.path.endsWith("/chat/completions"));
const hi = [{ role: "user" as const, content: "hello there" }];

describe("the openai SDK against the gateway", () => {
  it("gets a non-streaming completion from the cloud with usage and the x-edge-target header", async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: "cloud/main", messages: hi })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-edge-target")).toBe("cloud/main");
    expect(response.headers.get("x-edge-route-reason")).toBe("forced_cloud");
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toBe("cloud answer");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    // The cloud saw its own model name and the gateway's credential, never the client's key.
    expect(chatCalls(h.cloud)[0]?.body.model).toBe("gpt-test");
    expect(chatCalls(h.cloud)[0]?.headers.authorization).toBe("Bearer cloud-secret");
    expect(chatCalls(h.local)).toHaveLength(0);
  });

  it("streams a completion whose deltas join to the full text and ends with a usage chunk", async () => {
    const { data: stream, response } = await client()
      .chat.completions.create({
        model: "cloud/main",
        messages: hi,
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-edge-target")).toBe("cloud/main");
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("cloud answer");
    // role, two words, finish, usage.
    expect(chunks).toBe(5);
    expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    expect(chatCalls(h.cloud)[0]?.body.stream_options).toEqual({ include_usage: true });
  });

  it("lists auto and every target through models.list()", async () => {
    const ids: string[] = [];
    for await (const model of client().models.list()) {
      expect(model.object).toBe("model");
      ids.push(model.id);
    }
    expect(ids).toEqual(["auto", "local/tiny", "cloud/main"]);
  });

  it("creates embeddings through the cloud, with the SDK's default base64 encoding decoded to floats", async () => {
    const { data, response } = await client()
      .embeddings.create({ model: "cloud/main", input: ["hello world", "second input"] })
      .withResponse();
    expect(response.headers.get("x-edge-target")).toBe("cloud/main");
    const upstream = h.cloud.requests.find((r) => r.path.endsWith("/embeddings"));
    expect(upstream?.body.encoding_format).toBe("base64");
    expect(upstream?.body.model).toBe("text-embedding-3-small");
    expect(data.data).toHaveLength(2);
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    // The fake's vectors are float32 already, so the base64 round trip is exact.
    expect(data.data[0]?.embedding).toEqual(embedText("hello world", 8));
    expect(data.data[1]?.embedding).toEqual(embedText("second input", 8));
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("raises AuthenticationError 401 invalid_api_key for a key the gateway does not know", async () => {
    const err = await rejection(
      client("sk-not-a-gateway-key").chat.completions.create({ model: "auto", messages: hi }),
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, code: "invalid_api_key", type: "invalid_request_error" });
    expect(err.headers?.get("www-authenticate")).toMatch(/^Bearer /);
    expect(h.local.requests).toHaveLength(0);
  });

  it("raises BadRequestError 400 invalid_request naming the field for temperature 5", async () => {
    const err = await rejection(
      client().chat.completions.create({ model: "auto", messages: hi, temperature: 5 }),
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({
      status: 400,
      code: "invalid_request",
      param: "temperature",
      type: "invalid_request_error",
    });
    expect(err.message).toContain("temperature");
  });

  it("raises NotFoundError 404 model_not_found for an unknown model", async () => {
    const err = await rejection(client().chat.completions.create({ model: "gpt-nope", messages: hi }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
  });

  it("raises RateLimitError 429 rate_limit_exceeded once the free key has spent its burst", async () => {
    const free = client(FREE_KEY);
    for (let i = 0; i < 2; i++) {
      const done = await free.chat.completions.create({ model: "auto", messages: hi });
      expect(done.choices[0]?.message.content).toBe("local answer");
    }
    const err = await rejection(free.chat.completions.create({ model: "auto", messages: hi }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: "rate_limit_exceeded", type: "rate_limit_error" });
    expect(Number(err.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  it("raises UnprocessableEntityError 422 pii_requires_local for personal data only the cloud could fit", async () => {
    // Over the local target's 2048-token context, with a Luhn-valid card number in it.
    const content = `${"word ".repeat(3000)} my card is 4111 1111 1111 1111`;
    const err = await rejection(
      client().chat.completions.create({ model: "auto", messages: [{ role: "user", content }] }),
    );
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(err).toMatchObject({ status: 422, code: "pii_requires_local" });
    expect(chatCalls(h.cloud)).toHaveLength(0);
    expect(chatCalls(h.local)).toHaveLength(0);
  });

  it("raises InternalServerError 502 upstream_error when every target fails", async () => {
    h.local.always({ status: 500 });
    h.cloud.always({ status: 500 });
    const err = await rejection(client().chat.completions.create({ model: "auto", messages: hi }));
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ status: 502, code: "upstream_error", type: "server_error" });
    expect(err.headers?.get("x-edge-targets-tried")).toBe("local/tiny,cloud/main");
    expect(chatCalls(h.local)).toHaveLength(1);
    expect(chatCalls(h.cloud)).toHaveLength(1);
  });

  // Decision: when the only allowed target says 503 ("temporarily unavailable, retry later"), the
  // client must hear the same: 503 target_unavailable with the upstream's Retry-After, not 502 ("the
  // gateway got a bad answer"). It is the same condition as an open circuit or an unreachable cloud,
  // both of which the gateway already answers with 503, and the answer must not change from 502 to
  // 503 merely because the circuit breaker tripped in between.
  it("raises a 503 target_unavailable with Retry-After when the forced cloud answers 503, before and after its circuit opens", async () => {
    h.cloud.always({ path: "/v1/chat/completions", status: 503, retryAfterS: 7 });
    const forced = client();
    const seen: { status: number | undefined; code: unknown; retryAfter: string | null | undefined }[] = [];
    for (let i = 0; i < 3; i++) {
      const err = await rejection(
        forced.chat.completions.create(
          { model: "auto", messages: hi },
          { headers: { "x-edge-route": "cloud" } },
        ),
      );
      expect(err).toBeInstanceOf(InternalServerError);
      seen.push({ status: err.status, code: err.code, retryAfter: err.headers?.get("retry-after") });
    }
    expect(seen[0]).toEqual({ status: 503, code: "target_unavailable", retryAfter: "7" });
    for (const answer of seen) {
      expect(answer).toMatchObject({ status: 503, code: "target_unavailable" });
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Forced to the cloud: the local target is never tried.
    expect(chatCalls(h.local)).toHaveLength(0);
  });
});
