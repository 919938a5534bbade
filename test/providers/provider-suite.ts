/**
 * The contract every Provider implementation passes, run against the fake OpenAI upstream on real
 * HTTP. Cases state behaviour the router and the policy core rely on (which ProviderError kind a
 * failure becomes, that streams pass through as they come, that an abort reaches the upstream), never
 * how an implementation does it. Timing is checked through the fake's recorded state, not sleeps.
 *
 *   runProviderSuite("openai-compatible", (url, s) => createOpenAICompatibleProvider({ baseUrl: url, ...s }));
 *
 * A provider without an HTTP upstream (the llama-cpp provider over the model runner) passes options:
 * the cases that need what it lacks do not apply to it and are not registered for it (never deleted),
 * and its own test file covers their runner equivalents. Cases that watch the upstream do it through an `UpstreamObserver`.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Provider, ProviderError } from "../../host/providers/types.js";
import { closedPortUrl, type FakeOpenAIUpstream, startFakeOpenAIUpstream } from "../fakes/openai-upstream.js";

/** What the suite asks of the provider under test; each case may tighten the timeouts. */
export interface ProviderSuiteSettings {
  /** The upstream's credential: the provider sends it as `Authorization: Bearer`. */
  apiKey: string;
  /** The upstream's model name: the provider puts it into the body it sends. */
  model: string;
  /** Longest wait for the answer's headers (and between body bytes). */
  headersTimeoutMs: number;
  /** Longest a whole call may take. */
  totalTimeoutMs: number;
}

export type ProviderFactory = (upstreamUrl: string, settings: ProviderSuiteSettings) => Provider;

/** The suite's view of whatever answers the provider: the fake HTTP upstream, or an in-process runner. */
export interface UpstreamObserver {
  /** How the latest request stands: still being answered, answered in full, or stopped early. */
  lastOutcome(): "open" | "completed" | "closed-early" | "dropped" | undefined;
  /** Requests the upstream saw stopped before their end (client gone, timeout). */
  closedEarly(): number;
  /** Resolves once `predicate` holds; a barrier, not a sleep. */
  until(predicate: () => boolean): Promise<void>;
  close?(): void;
}

export interface ProviderSuiteOptions {
  /**
   * The provider speaks HTTP to the fake upstream: it forwards the model, its key and the request id,
   * and the fake's scripted misbehaviour (statuses, Retry-After, delays, hangs, drops, a closed port)
   * reaches it. Default true. Without it those cases are skipped.
   */
  httpUpstream?: boolean;
  /** Serves /embeddings. Default true. */
  embeddings?: boolean;
  /**
   * What the upstream answers to the suite's chat: exact text and token counts (the fake's by
   * default). null for a real model, whose reply is checked for its shape and consistent usage only.
   */
  reply?: { content: string; completionTokens: number; totalTokens: number } | null;
  /** Merged into every chat body the suite sends (e.g. sampling that keeps a tiny model talking). */
  chatExtras?: Record<string, unknown>;
  /** Watches an in-process upstream; the fake HTTP upstream's own records when absent. */
  observe?: () => UpstreamObserver;
}

const REPLY = "The quick brown fox jumps over the lazy dog";
const DEFAULTS: ProviderSuiteSettings = {
  apiKey: "sk-upstream-key",
  model: "upstream-model",
  headersTimeoutMs: 5_000,
  totalTimeoutMs: 10_000,
};
const BASE_CHAT = { model: "client-alias", messages: [{ role: "user", content: "Say something" }] };

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** The ProviderError a promise rejects with; fails the test if it resolves or throws anything else. */
async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ProviderError);
  return outcome as ProviderError;
}

/** The `content` deltas of an SSE chat stream, joined. */
function streamedContent(sse: string): string {
  return sse
    .split("\n\n")
    .filter((event) => event.startsWith("data: {"))
    .map((event) => JSON.parse(event.slice("data: ".length)).choices[0]?.delta?.content ?? "")
    .join("");
}

function observeFake(upstream: FakeOpenAIUpstream): UpstreamObserver {
  return {
    lastOutcome: () => upstream.lastRequest?.outcome,
    closedEarly: () => upstream.closedEarly,
    until: (predicate) => upstream.until(predicate),
  };
}

export function runProviderSuite(
  name: string,
  factory: ProviderFactory,
  {
    httpUpstream = true,
    embeddings = true,
    reply = { content: REPLY, completionTokens: 9, totalTokens: 11 },
    chatExtras = {},
    observe,
  }: ProviderSuiteOptions = {},
): void {
  const CHAT = { ...BASE_CHAT, ...chatExtras };
  const STREAM_CHAT = { ...CHAT, stream: true };
  /** A case that needs the fake HTTP upstream's scripting or wire; not registered for other providers. */
  const httpIt = (name: string, fn: () => Promise<void>, timeoutMs?: number) => {
    if (httpUpstream) it(name, fn, timeoutMs);
  };
  const expectReply = (content: unknown, usage: { [key: string]: unknown } | undefined) => {
    if (reply) {
      expect(content).toBe(reply.content);
      expect(usage).toMatchObject({
        completion_tokens: reply.completionTokens,
        total_tokens: reply.totalTokens,
      });
      return;
    }
    expect(typeof content).toBe("string");
    const counts = usage as { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    expect(counts.prompt_tokens).toBeGreaterThan(0);
    expect(counts.completion_tokens).toBeGreaterThan(0);
    expect(counts.total_tokens).toBe(counts.prompt_tokens + counts.completion_tokens);
  };

  describe(`provider contract: ${name}`, () => {
    let upstream: FakeOpenAIUpstream;
    let observer: UpstreamObserver;
    let providers: Provider[] = [];
    let controller: AbortController;

    const make = (overrides: Partial<ProviderSuiteSettings> = {}, url = upstream.url): Provider => {
      const provider = factory(url, { ...DEFAULTS, ...overrides });
      providers.push(provider);
      return provider;
    };
    const opts = (requestId = "req-suite") => ({ signal: controller.signal, requestId });

    beforeEach(async () => {
      upstream = await startFakeOpenAIUpstream({ reply: REPLY, apiKey: DEFAULTS.apiKey });
      observer = observe ? observe() : observeFake(upstream);
      controller = new AbortController();
    });
    afterEach(async () => {
      await Promise.all(providers.map((provider) => provider.close()));
      providers = [];
      observer.close?.();
      await upstream.close();
    });

    it("answers a non-streaming chat completion with 200 JSON carrying choices and usage", async () => {
      const res = await make().call("chat/completions", CHAT, opts());
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toContain("application/json");
      const json = JSON.parse(await readText(res.body));
      expect(json.object).toBe("chat.completion");
      expect(json.choices[0].message.role).toBe("assistant");
      expectReply(json.choices[0].message.content, json.usage);
    });

    httpIt(
      "sends the upstream model, its own bearer key and the request id, never the client's credentials",
      async () => {
        const res = await make().call("chat/completions", CHAT, {
          ...opts("req-forwarded-1"),
          headers: { authorization: "Bearer client-secret", "idempotency-key": "idem-1" },
        });
        await readText(res.body);
        const seen = upstream.lastRequest;
        expect(seen?.method).toBe("POST");
        expect(seen?.path).toBe("/v1/chat/completions");
        expect(seen?.body).toEqual({ ...CHAT, model: DEFAULTS.model });
        expect(seen?.headers.authorization).toBe(`Bearer ${DEFAULTS.apiKey}`);
        expect(seen?.headers["x-request-id"]).toBe("req-forwarded-1");
        expect(seen?.headers["idempotency-key"]).toBe("idem-1");
        expect(seen?.headers["content-type"]).toContain("application/json");
      },
    );

    it("streams SSE bytes as they come, before the upstream has finished, ending with [DONE]", async () => {
      upstream.always({ delayBetweenChunksMs: 15 });
      const res = await make().call("chat/completions", STREAM_CHAT, opts());
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toContain("text/event-stream");
      const decoder = new TextDecoder();
      let text = "";
      let chunks = 0;
      let upstreamStateAtFirstChunk: string | undefined;
      for await (const chunk of res.body) {
        upstreamStateAtFirstChunk ??= observer.lastOutcome();
        chunks++;
        text += decoder.decode(chunk, { stream: true });
      }
      expect(upstreamStateAtFirstChunk).toBe("open");
      expect(chunks).toBeGreaterThan(1);
      expect(text.startsWith("data: {")).toBe(true);
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
      if (reply) expect(streamedContent(text)).toBe(reply.content);
      else expect(streamedContent(text).length).toBeGreaterThan(0);
      await observer.until(() => observer.lastOutcome() === "completed");
    });

    it("passes stream_options through, so the upstream appends its usage chunk", async () => {
      const body = { ...STREAM_CHAT, stream_options: { include_usage: true } };
      const res = await make().call("chat/completions", body, opts());
      const events = (await readText(res.body)).split("\n\n").filter(Boolean);
      expect(events.at(-1)).toBe("data: [DONE]");
      const usageChunk = JSON.parse((events.at(-2) ?? "").slice("data: ".length));
      expect(usageChunk.choices).toEqual([]);
      if (reply) expect(usageChunk.usage).toMatchObject({ completion_tokens: reply.completionTokens });
      else expect(usageChunk.usage.completion_tokens).toBeGreaterThan(0);
    });

    httpIt("rejects a 500 as http with the status and the upstream's error body", async () => {
      upstream.next({ status: 500 });
      const err = await failureOf(make().call("chat/completions", CHAT, opts()));
      expect(err.kind).toBe("http");
      expect(err.details.status).toBe(500);
      expect(JSON.parse(err.details.body ?? "")).toMatchObject({ error: { type: "server_error" } });
    });

    httpIt("rejects a 429 with Retry-After: 2 as http 429 with retryAfterMs 2000", async () => {
      upstream.next({ status: 429, retryAfterS: 2 });
      const err = await failureOf(make().call("chat/completions", STREAM_CHAT, opts()));
      expect(err.kind).toBe("http");
      expect(err.details.status).toBe(429);
      expect(err.details.retryAfterMs).toBe(2000);
      expect(err.details.body).toContain("rate_limit_exceeded");
    });

    httpIt(
      "times out when the first byte takes longer than headersTimeoutMs, and lets go of the upstream",
      async () => {
        upstream.next({ firstByteDelayMs: 30_000 });
        const err = await failureOf(make({ headersTimeoutMs: 150 }).call("chat/completions", CHAT, opts()));
        expect(err.kind).toBe("timeout");
        await upstream.until(() => upstream.closedEarly === 1);
      },
    );

    httpIt("times out before the headers when the total timeout passes first", async () => {
      upstream.next({ hang: true });
      const provider = make({ totalTimeoutMs: 150 });
      const err = await failureOf(provider.call("chat/completions", CHAT, opts()));
      expect(err.kind).toBe("timeout");
      await upstream.until(() => upstream.closedEarly === 1);
    });

    httpIt("times out mid-stream when the total timeout passes, and closes the upstream stream", async () => {
      upstream.next({ hangAfterChunks: 2 });
      const res = await make({ totalTimeoutMs: 200 }).call("chat/completions", STREAM_CHAT, opts());
      const err = await failureOf(readText(res.body));
      expect(err.kind).toBe("timeout");
      await upstream.until(() => upstream.closedEarly === 1);
    });

    httpIt("throws protocol from the body when the upstream drops the connection mid-stream", async () => {
      upstream.next({ dropAfterChunks: 2 });
      const res = await make().call("chat/completions", STREAM_CHAT, opts());
      expect(res.status).toBe(200);
      const err = await failureOf(readText(res.body));
      expect(err.kind).toBe("protocol");
    });

    httpIt("throws protocol from the body when a JSON answer is cut short", async () => {
      upstream.next({ dropAfterChunks: 0 });
      const res = await make().call("chat/completions", CHAT, opts());
      const err = await failureOf(readText(res.body));
      expect(err.kind).toBe("protocol");
    });

    it("stops the upstream when the caller aborts mid-stream, and reports aborted", async () => {
      upstream.next({ hangAfterChunks: 1 });
      const res = await make().call("chat/completions", STREAM_CHAT, opts());
      const iterator = res.body[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.done).toBe(false);
      controller.abort();
      const err = await failureOf(iterator.next());
      expect(err.kind).toBe("aborted");
      await observer.until(() => observer.closedEarly() === 1);
      expect(observer.lastOutcome()).toBe("closed-early");
    });

    httpIt("stops the upstream when the caller aborts before the headers, and reports aborted", async () => {
      upstream.next({ hang: true });
      const pending = make().call("chat/completions", CHAT, opts());
      await upstream.until(() => upstream.requests.length === 1);
      controller.abort();
      const err = await failureOf(pending);
      expect(err.kind).toBe("aborted");
      await upstream.until(() => upstream.closedEarly === 1);
    });

    it("rejects a call whose signal is already aborted with aborted", async () => {
      controller.abort();
      const err = await failureOf(make().call("chat/completions", CHAT, opts()));
      expect(err.kind).toBe("aborted");
    });

    it("closes the upstream stream when the consumer stops reading early", async () => {
      upstream.next({ hangAfterChunks: 1 });
      const res = await make().call("chat/completions", STREAM_CHAT, opts());
      for await (const _chunk of res.body) break;
      await observer.until(() => observer.closedEarly() === 1);
    });

    httpIt("rejects with connect when nothing listens at the upstream's address", async () => {
      const provider = make({}, await closedPortUrl());
      const err = await failureOf(provider.call("chat/completions", CHAT, opts()));
      expect(err.kind).toBe("connect");
    });

    httpIt("probe resolves on any HTTP answer, even an error status", async () => {
      const provider = make();
      await expect(provider.probe(controller.signal)).resolves.toBeUndefined();
      expect(upstream.lastRequest).toMatchObject({ method: "GET", path: "/v1/models" });
      upstream.next({ status: 500 });
      await expect(provider.probe(controller.signal)).resolves.toBeUndefined();
      upstream.next({ status: 401 });
      await expect(provider.probe(controller.signal)).resolves.toBeUndefined();
    });

    httpIt("probe rejects with connect when nothing listens at the upstream's address", async () => {
      const provider = make({}, await closedPortUrl());
      const err = await failureOf(provider.probe(controller.signal));
      expect(err.kind).toBe("connect");
    });

    (embeddings ? it : () => undefined)("passes embeddings through with the upstream model", async () => {
      const body = { model: "client-alias", input: ["hello world", "good bye"] };
      const res = await make().call("embeddings", body, opts());
      expect(res.status).toBe(200);
      const json = JSON.parse(await readText(res.body));
      expect(json.object).toBe("list");
      expect(json.data).toHaveLength(2);
      expect(json.data[0].embedding).toHaveLength(8);
      expect(upstream.lastRequest?.path).toBe("/v1/embeddings");
      expect(upstream.lastRequest?.body).toEqual({ ...body, model: DEFAULTS.model });
    });
  });
}
