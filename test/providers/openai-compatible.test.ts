import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openCallScope } from "../../host/providers/openai-compatible/call-scope.js";
import { toProviderError } from "../../host/providers/openai-compatible/classify-error.js";
import { responseHeaders } from "../../host/providers/openai-compatible/headers.js";
import {
  createOpenAICompatibleProvider,
  type OpenAICompatibleOptions,
  parseRetryAfterMs,
} from "../../host/providers/openai-compatible/index.js";
import { type Provider, ProviderError } from "../../host/providers/types.js";
import { type FakeOpenAIUpstream, startFakeOpenAIUpstream } from "../fakes/openai-upstream.js";
import { runProviderSuite } from "./provider-suite.js";

runProviderSuite("openai-compatible", (baseUrl, settings) =>
  createOpenAICompatibleProvider({ name: "test/fake", kind: "cloud", baseUrl, ...settings }),
);

const CHAT = { model: "m", messages: [{ role: "user", content: "hi" }] };

async function drain(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

describe("createOpenAICompatibleProvider", () => {
  let upstream: FakeOpenAIUpstream;
  let provider: Provider | undefined;
  const make = (options: Partial<OpenAICompatibleOptions> = {}) => {
    provider = createOpenAICompatibleProvider({
      name: "test/fake",
      kind: "local",
      baseUrl: upstream.url,
      ...options,
    });
    return provider;
  };
  const opts = (signal = new AbortController().signal) => ({ signal, requestId: "req-1" });

  beforeEach(async () => {
    upstream = await startFakeOpenAIUpstream();
  });
  afterEach(async () => {
    await provider?.close();
    provider = undefined;
    await upstream.close();
  });

  it("keeps connections alive across calls instead of opening one per call", async () => {
    const p = make();
    for (let i = 0; i < 6; i++) await drain((await p.call("chat/completions", CHAT, opts())).body);
    expect(upstream.requests).toHaveLength(6);
    // undici's pool may open a second connection while the first is being released; never more.
    expect(upstream.connections).toBeLessThanOrEqual(2);
  });

  it("drops hop-by-hop response headers and keeps the rest lower-cased", async () => {
    upstream.next({ headers: { "X-Upstream-Trace": "abc", "Keep-Alive": "timeout=5" } });
    const res = await make().call("chat/completions", { ...CHAT, stream: true }, opts());
    await drain(res.body);
    expect(res.headers["x-upstream-trace"]).toBe("abc");
    expect(res.headers["content-type"]).toBe("text/event-stream");
    expect(res.headers).not.toHaveProperty("connection");
    expect(res.headers).not.toHaveProperty("keep-alive");
    expect(res.headers).not.toHaveProperty("transfer-encoding");
  });

  it("sends no authorization and leaves the model alone when neither apiKey nor model is set", async () => {
    const res = await make().call("chat/completions", CHAT, {
      ...opts(),
      headers: { Cookie: "session=1", "X-Api-Key": "client", Connection: "close" },
    });
    await drain(res.body);
    const seen = upstream.lastRequest;
    expect(seen?.headers).not.toHaveProperty("authorization");
    expect(seen?.headers).not.toHaveProperty("cookie");
    expect(seen?.headers).not.toHaveProperty("x-api-key");
    expect(seen?.headers.accept).toBe("application/json");
    expect(seen?.body.model).toBe("m");
  });

  it("keeps the base URL's query string on every path", async () => {
    const p = make({ baseUrl: `${upstream.url}/?api-version=2024-10-21` });
    await drain((await p.call("chat/completions", CHAT, opts())).body);
    await p.probe(new AbortController().signal);
    expect(upstream.requests.map((r) => r.path)).toEqual([
      "/v1/chat/completions?api-version=2024-10-21",
      "/v1/models?api-version=2024-10-21",
    ]);
  });

  it("leaves no listener on the caller's signal once a call is over", async () => {
    const controller = new AbortController();
    const p = make();
    await drain((await p.call("chat/completions", { ...CHAT, stream: true }, opts(controller.signal))).body);
    upstream.next({ status: 503 });
    await p.call("chat/completions", CHAT, opts(controller.signal)).catch(() => undefined);
    await p.probe(controller.signal);
    await upstream.until(() => upstream.requests.every((r) => r.outcome !== "open"));
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("reads a whole JSON answer with readAll and then lets go of the caller's signal", async () => {
    const controller = new AbortController();
    const res = await make().call("chat/completions", CHAT, opts(controller.signal));
    const text = Buffer.from(await (res.readAll as (n: number) => Promise<Uint8Array>)(1 << 20)).toString();
    expect(JSON.parse(text)).toMatchObject({ object: "chat.completion" });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("fails readAll as protocol past its limit, and as protocol when the upstream drops mid-body", async () => {
    const p = make();
    const big = await p.call("chat/completions", CHAT, opts());
    const tooBig = (await big.readAll?.(10).catch((e: unknown) => e)) as ProviderError;
    expect(tooBig).toBeInstanceOf(ProviderError);
    expect(tooBig.kind).toBe("protocol");
    expect(tooBig.message).toContain("larger than 10 bytes");

    upstream.next({ dropAfterChunks: 1 });
    const cut = await p.call("chat/completions", CHAT, opts());
    const dropped = (await cut.readAll?.(1 << 20).catch((e: unknown) => e)) as ProviderError;
    expect(dropped).toBeInstanceOf(ProviderError);
    expect(dropped.kind).toBe("protocol");
  });

  it("reads a Retry-After HTTP date against the injected clock", async () => {
    const nowMs = Date.parse("2026-01-01T00:00:00Z");
    upstream.next({ status: 503, retryAfter: new Date(nowMs + 7_000).toUTCString() });
    const err = await make({ now: () => nowMs })
      .call("chat/completions", CHAT, opts())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).details).toMatchObject({ status: 503, retryAfterMs: 7_000 });
  });

  it("keeps at most 64 KiB of an error body", async () => {
    upstream.next({ status: 400, errorBody: "x".repeat(200_000) });
    const err = (await make()
      .call("chat/completions", CHAT, opts())
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe("http");
    expect(err.details.body).toHaveLength(64 * 1024);
  });

  it("times out mid-stream when the upstream goes silent for longer than headersTimeoutMs", async () => {
    upstream.next({ hangAfterChunks: 1 });
    const res = await make({ headersTimeoutMs: 100 }).call(
      "chat/completions",
      { ...CHAT, stream: true },
      opts(),
    );
    const err = await drain(res.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe("timeout");
  });

  it("probe times out when /models never answers within probeTimeoutMs", async () => {
    upstream.next({ hang: true });
    const err = await make({ probeTimeoutMs: 100 })
      .probe(new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe("timeout");
  });

  it("ends a call still in flight as aborted when the provider is closed", async () => {
    upstream.next({ hangAfterChunks: 1 });
    const p = make();
    const res = await p.call("chat/completions", { ...CHAT, stream: true }, opts());
    const reading = drain(res.body).catch((e: unknown) => e);
    await p.close();
    const err = await reading;
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe("aborted");
  });

  it("refuses an endpoint it was not configured to serve", async () => {
    const p = make({ endpoints: ["chat/completions"] });
    await expect(p.call("embeddings", { input: "x" }, opts())).rejects.toThrow(/not served/);
    expect(upstream.requests).toHaveLength(0);
  });

  it("refuses a base URL that is not http(s)", () => {
    expect(() => make({ baseUrl: "ftp://127.0.0.1/v1" })).toThrow(/http/);
  });
});

describe("responseHeaders", () => {
  it("lower-cases names, joins repeats, and drops hop-by-hop headers and those Connection names", () => {
    expect(
      responseHeaders({
        "Content-Type": "application/json",
        "X-Trace": ["a", "b"],
        "Keep-Alive": "timeout=5",
        Connection: "keep-alive, X-Secret-Hop",
        "x-secret-hop": "1",
        "transfer-encoding": "chunked",
        missing: undefined,
      }),
    ).toEqual({ "content-type": "application/json", "x-trace": "a, b" });
    // Without a Connection header only the fixed hop-by-hop set goes.
    expect(responseHeaders({ "x-secret-hop": "1", upgrade: "h2c" })).toEqual({ "x-secret-hop": "1" });
  });
});

describe("parseRetryAfterMs", () => {
  const nowMs = Date.parse("2026-01-01T00:00:00Z");

  it("reads delay-seconds", () => {
    expect(parseRetryAfterMs("2", nowMs)).toBe(2_000);
    expect(parseRetryAfterMs(" 0 ", nowMs)).toBe(0);
  });

  it("reads an HTTP date as the time left, and a past date as zero", () => {
    expect(parseRetryAfterMs("Thu, 01 Jan 2026 00:01:30 GMT", nowMs)).toBe(90_000);
    expect(parseRetryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", nowMs)).toBe(0);
  });

  it("ignores missing or malformed values", () => {
    for (const value of [undefined, "", "soon", "1.5", "-3"])
      expect(parseRetryAfterMs(value, nowMs)).toBeUndefined();
  });
});

describe("toProviderError", () => {
  const idle = openCallScope(new AbortController().signal, 60_000);
  idle.dispose();
  const kindOf = (err: unknown) => toProviderError(err, idle, "t").kind;
  const coded = (code: string) => Object.assign(new Error(code), { code });

  it("maps refused, unresolvable, unreachable and slow connects to connect", () => {
    for (const code of [
      "ECONNREFUSED",
      "ENOTFOUND",
      "EAI_AGAIN",
      "EHOSTUNREACH",
      "UND_ERR_CONNECT_TIMEOUT",
    ]) {
      expect(kindOf(coded(code))).toBe("connect");
    }
    // Node's happy-eyeballs connect reports one failure per address.
    expect(kindOf(new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")]))).toBe("connect");
    expect(kindOf(Object.assign(new Error("fetch failed"), { cause: coded("ENOTFOUND") }))).toBe("connect");
  });

  it("maps undici's headers and body timeouts to timeout, and a broken socket to protocol", () => {
    expect(kindOf(coded("UND_ERR_HEADERS_TIMEOUT"))).toBe("timeout");
    expect(kindOf(coded("UND_ERR_BODY_TIMEOUT"))).toBe("timeout");
    expect(kindOf(coded("UND_ERR_SOCKET"))).toBe("protocol");
    expect(kindOf(coded("ECONNRESET"))).toBe("protocol");
    expect(kindOf(new Error("something else"))).toBe("protocol");
  });

  it("lets the scope decide once the caller or the deadline aborted", () => {
    const caller = new AbortController();
    const scope = openCallScope(caller.signal, 60_000);
    caller.abort();
    scope.dispose();
    expect(toProviderError(coded("UND_ERR_SOCKET"), scope, "t").kind).toBe("aborted");
  });
});
