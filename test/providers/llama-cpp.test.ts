/**
 * The llama-cpp provider against the contract suite, on the tiny model in a real runner child.
 *
 * Skipped suite cases (httpUpstream: false) and where their runner equivalents are tested:
 * - forwarding the upstream key and request id: there is no HTTP hop to forward them over;
 * - 500 / 429 with Retry-After: the runner's refusals are 503 + retryAfterMs (queue full, below) and
 *   400 with OpenAI's error body (invalid request, below);
 * - first-byte and total timeouts before the headers: a request queued behind busy sequences (below);
 * - total timeout mid-stream: below;
 * - connection dropped mid-stream or mid-JSON: the runner killed mid-request (test/runner/restart);
 * - abort before the headers: abort while queued (below);
 * - connect errors and probe on a closed port: probe and calls while the runner is down (below);
 * - embeddings: the provider serves chat completions only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLlamaCppProvider } from "../../host/providers/llama-cpp/index.js";
import { ProviderError } from "../../host/providers/types.js";
import type { RunnerSupervisor } from "../../host/runner/supervisor.js";
import {
  failureOf,
  LONG_ANSWER,
  observeRunner,
  silentLogger,
  startRunner,
  tinySpec,
} from "../runner/helpers.js";
import { runProviderSuite } from "./provider-suite.js";

let supervisor: RunnerSupervisor;
beforeAll(async () => {
  // A context far beyond the tiny model's 512 trained tokens: room for streams that outlast a timeout.
  supervisor = await startRunner({ models: [tinySpec({ sequences: 1, maxQueue: 1, contextTokens: 8192 })] });
});
afterAll(async () => {
  await supervisor?.close();
});

runProviderSuite(
  "llama-cpp",
  (_url, settings) =>
    createLlamaCppProvider({
      name: "local/tiny",
      supervisor,
      model: "tiny",
      firstTokenTimeoutMs: settings.headersTimeoutMs,
      totalTimeoutMs: settings.totalTimeoutMs,
    }),
  {
    httpUpstream: false,
    embeddings: false,
    reply: null,
    // Long enough that a stream is still open when its first chunk is read.
    chatExtras: { ...LONG_ANSWER, max_tokens: 256 },
    observe: () => observeRunner(supervisor),
  },
);

const CHAT = { model: "tiny", messages: [{ role: "user", content: "Say something" }], max_tokens: 32 };
const opts = (signal = new AbortController().signal) => ({ signal, requestId: "req-llama" });

describe("llama-cpp provider: runner equivalents of the HTTP-only cases", () => {
  const make = (overrides: { firstTokenTimeoutMs?: number; totalTimeoutMs?: number } = {}) =>
    createLlamaCppProvider({ name: "local/tiny", supervisor, model: "tiny", ...overrides });

  /** Takes the model's only sequence with a long stream, so the next request has to queue. */
  async function occupySequence() {
    const res = await make().call(
      "chat/completions",
      { ...CHAT, ...LONG_ANSWER, max_tokens: 900, stream: true },
      opts(),
    );
    const iterator = res.body[Symbol.asyncIterator]();
    await iterator.next();
    return iterator;
  }

  it("turns a request away with http 503 and retryAfterMs when the sequence is busy and the queue is full", async () => {
    const busy = await occupySequence();
    const queued = make().call("chat/completions", CHAT, opts());
    await expect.poll(() => supervisor.state().models[0]?.queued).toBe(1);
    const err = await failureOf(make().call("chat/completions", CHAT, opts()));
    expect(err.kind).toBe("http");
    expect(err.details.status).toBe(503);
    expect(err.details.retryAfterMs).toBe(1_000);
    expect(JSON.parse(err.details.body ?? "")).toMatchObject({ error: { code: "model_busy" } });
    await busy.return?.();
    await (await queued).body[Symbol.asyncIterator]().next();
  });

  it("times out a request queued longer than the first-token timeout, and takes it out of the queue", async () => {
    const busy = await occupySequence();
    const err = await failureOf(make({ firstTokenTimeoutMs: 150 }).call("chat/completions", CHAT, opts()));
    expect(err.kind).toBe("timeout");
    expect(supervisor.state().models[0]?.queued).toBe(0);
    await busy.return?.();
  });

  it("times out mid-stream when the total timeout passes, and stops the generation", async () => {
    const observer = observeRunner(supervisor);
    const res = await make({ totalTimeoutMs: 300 }).call(
      "chat/completions",
      { ...CHAT, ...LONG_ANSWER, max_tokens: 100_000, stream: true },
      opts(),
    );
    let err: unknown;
    try {
      for await (const _chunk of res.body);
    } catch (error) {
      err = error;
    }
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe("timeout");
    await observer.until(() => observer.closedEarly() === 1);
    observer.close?.();
  });

  it("reports aborted when the caller aborts while the request waits in the queue", async () => {
    const busy = await occupySequence();
    const controller = new AbortController();
    const pending = make().call("chat/completions", CHAT, opts(controller.signal));
    await expect.poll(() => supervisor.state().models[0]?.queued).toBe(1);
    controller.abort();
    const err = await failureOf(pending);
    expect(err.kind).toBe("aborted");
    expect(supervisor.state().models[0]?.queued).toBe(0);
    await busy.return?.();
  });

  it("rejects the client's mistakes with http 400 and OpenAI's error body", async () => {
    const image = { ...CHAT, messages: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }] };
    const err = await failureOf(make().call("chat/completions", image, opts()));
    expect(err.details.status).toBe(400);
    expect(JSON.parse(err.details.body ?? "")).toMatchObject({ error: { type: "invalid_request_error" } });
    const twoChoices = await failureOf(make().call("chat/completions", { ...CHAT, n: 2 }, opts()));
    expect(twoChoices.details.status).toBe(400);
  });

  it("probe resolves while the runner is ready", async () => {
    await expect(make().probe(new AbortController().signal)).resolves.toBeUndefined();
  });
});

describe("llama-cpp provider while the runner is down", () => {
  it("probe and calls reject with connect", async () => {
    const { RunnerSupervisor } = await import("../../host/runner/supervisor.js");
    const down = new RunnerSupervisor({
      models: [tinySpec()],
      threads: 1,
      checkModelFile: () => [],
      logger: silentLogger,
    });
    const provider = createLlamaCppProvider({ name: "local/tiny", supervisor: down, model: "tiny" });
    expect((await failureOf(provider.probe(new AbortController().signal))).kind).toBe("connect");
    expect((await failureOf(provider.call("chat/completions", CHAT, opts()))).kind).toBe("connect");
  });
});
