/**
 * The three load shapes of the HTTP bench, each run the same way against the upstream directly and
 * through the gateway. Latencies are kept per response (float milliseconds from hrtime) and their
 * percentiles computed here: autocannon's own histogram truncates to whole milliseconds and, in rate
 * mode, adds coordinated-omission samples at a 1 ms interval, too coarse for sub-millisecond targets.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { Pool } from "undici";

export interface Target {
  /** The side's label in reports: "direct", "gateway", a peer's name. */
  name: string;
  /** Origin, e.g. http://127.0.0.1:8080; requests go to `${origin}${path}`. */
  origin: string;
  path: string;
  headers: Record<string, string>;
}

export interface Latency {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  latency: Latency;
  durationS: number;
  /** 2xx answers per second over the run. */
  okPerS: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Nearest-rank percentiles of samples in milliseconds, rounded to microseconds. */
export function summarize(samples: number[]): Latency {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => {
    if (sorted.length === 0) return Number.NaN;
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return round3(sorted[index] as number);
  };
  return { count: sorted.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: at(1) };
}

export const round3 = (value: number) => Math.round(value * 1000) / 1000;

function chatBody(stream: boolean): string {
  const messages = [{ role: "user", content: "Say hello in one short sentence." }];
  return JSON.stringify(stream ? { model: "auto", messages, stream: true } : { model: "auto", messages });
}

export interface CannonOptions {
  connections: number;
  durationS: number;
  /** Requests per second over all connections; absent for as fast as possible. */
  overallRate?: number;
}

/** One autocannon run of non-streaming chat completions; latencies of 2xx answers only. */
export async function cannon(target: Target, options: CannonOptions): Promise<LoadResult> {
  const samples: number[] = [];
  const instance = autocannon({
    url: `${target.origin}${target.path}`,
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: chatBody(false),
    connections: options.connections,
    duration: options.durationS,
    timeout: 10,
    ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
  });
  instance.on("response", (_client: unknown, status: number, _bytes: number, responseMs: number) => {
    if (status >= 200 && status < 300) samples.push(responseMs);
  });
  const result = await instance;
  const ok = result["2xx"];
  return {
    latency: summarize(samples),
    durationS: result.duration,
    okPerS: Math.round(ok / result.duration),
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export interface PacedOptions {
  ratePerS: number;
  durationS: number;
  connections: number;
}

/**
 * Open-loop load at an even rate: request k is due at start + k/rate and is sent on the first timer
 * tick at or after that, whether or not earlier ones have answered. autocannon's `overallRate` is
 * not even: each connection sends its per-second quota back to back when a one-second timer fires,
 * so its "1,000 req/s" is ten closed loops for part of every second. Latency runs from the send to
 * the end of the body; timer ticks make sends up to ~1 ms late alike for both sides, and being open
 * loop the generator never waits for a slow answer, so this lateness is not the server's doing.
 */
export async function paced(target: Target, options: PacedOptions): Promise<LoadResult> {
  const pool = new Pool(target.origin, {
    connections: options.connections,
    keepAliveTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const body = chatBody(false);
  const headers = { "content-type": "application/json", ...target.headers };
  const samples: number[] = [];
  const total = Math.round(options.ratePerS * options.durationS);
  const intervalMs = 1000 / options.ratePerS;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const inflight = new Set<Promise<void>>();

  const send = () => {
    const sentMs = performance.now();
    const done = pool
      .request({ method: "POST", path: target.path, headers, body })
      .then(async (res) => {
        await res.body.dump({ limit: Number.POSITIVE_INFINITY });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          ok++;
          samples.push(performance.now() - sentMs);
        } else non2xx++;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inflight.delete(done));
    inflight.add(done);
  };

  const startMs = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && startMs + sent * intervalMs <= now) {
      send();
      sent++;
    }
    await sleep(Math.max(0, startMs + sent * intervalMs - performance.now()));
  }
  await Promise.all(inflight);
  const durationS = (performance.now() - startMs) / 1000;
  await pool.close();
  return {
    latency: summarize(samples),
    durationS: round3(durationS),
    okPerS: Math.round(ok / durationS),
    ok,
    non2xx,
    errors,
    timeouts: 0,
  };
}

export interface TtfbResult {
  latency: Latency;
  ok: number;
  failed: number;
}

/**
 * Sequential streaming requests on one keep-alive connection: time from sending the request to the
 * first body chunk (the first SSE event), then the rest of the stream is read to its end.
 */
export async function sseTtfb(target: Target, count: number): Promise<TtfbResult> {
  const pool = new Pool(target.origin, {
    connections: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const body = chatBody(true);
  const headers = { "content-type": "application/json", accept: "text/event-stream", ...target.headers };
  const samples: number[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < count; i++) {
      const startMs = performance.now();
      const res = await pool.request({ method: "POST", path: target.path, headers, body });
      let firstMs: number | undefined;
      let text = "";
      for await (const chunk of res.body) {
        firstMs ??= performance.now();
        text += (chunk as Buffer).toString();
      }
      if (res.statusCode === 200 && firstMs !== undefined && text.trimEnd().endsWith("data: [DONE]")) {
        samples.push(firstMs - startMs);
      } else failed++;
    }
  } finally {
    await pool.close();
  }
  return { latency: summarize(samples), ok: samples.length, failed };
}
