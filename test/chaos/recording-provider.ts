// The real OpenAI-compatible provider with a recorder around it: every keyed call (one per delivery
// attempt of the sync worker) with its start, its end and how it failed. The fake cloud sees only
// the attempts that reached it; refused connections are seen here. Each call carries `x-chaos-call`
// so the fake's record of it can be matched to it.

import { createOpenAICompatibleProvider } from "../../host/providers/openai-compatible/index.js";
import { ProviderError } from "../../host/providers/types.js";
import type { ProviderFactory } from "../../host/routing/targets.js";

export interface RecordedCall {
  /** Unique across the run; sent as `x-chaos-call`. */
  seq: number;
  key: string;
  /** Wall-clock ms, the clock the queue and the fake use too. */
  startMs: number;
  /** When the answer was read to the end or the call failed; undefined while it runs. */
  endMs?: number;
  error?: { kind: string; status?: number; retryAfterMs?: number };
}

export function recordingProviders(): { factory: ProviderFactory; calls: Map<string, RecordedCall[]> } {
  const calls = new Map<string, RecordedCall[]>();
  let seq = 0;
  const fail = (call: RecordedCall, error: unknown): never => {
    call.endMs = Date.now();
    call.error =
      error instanceof ProviderError
        ? { kind: error.kind, status: error.details.status, retryAfterMs: error.details.retryAfterMs }
        : { kind: "thrown" };
    throw error;
  };
  const factory: ProviderFactory = (options) => {
    const inner = createOpenAICompatibleProvider(options);
    return {
      ...inner,
      async call(endpoint, body, opts) {
        const key = opts.headers?.["idempotency-key"];
        if (key === undefined) return inner.call(endpoint, body, opts);
        const call: RecordedCall = { seq: ++seq, key, startMs: Date.now() };
        calls.set(key, [...(calls.get(key) ?? []), call]);
        const headers = { ...opts.headers, "x-chaos-call": String(call.seq) };
        let res: Awaited<ReturnType<typeof inner.call>>;
        try {
          res = await inner.call(endpoint, body, { ...opts, headers });
        } catch (error) {
          return fail(call, error);
        }
        // The attempt ends when the worker has read the answer, or the read broke.
        async function* recorded(): AsyncGenerator<Uint8Array> {
          try {
            yield* res.body;
          } catch (error) {
            fail(call, error);
          }
          call.endMs = Date.now();
        }
        return { ...res, body: recorded() };
      },
    };
  };
  return { factory, calls };
}
