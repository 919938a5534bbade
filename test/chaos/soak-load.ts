// The soak's two instruments: an open-loop load of chat completions at an even rate (every k-th a
// stream, read to `data: [DONE]`), and a sampler of a process's resident set once a second. Both are
// bounded: the load by its count and by a cap on requests awaiting an answer, the sampler by stop().

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";

export interface LoadOptions {
  origin: string;
  apiKey: string;
  ratePerS: number;
  durationS: number;
  /** Every `streamEvery`-th request streams. */
  streamEvery: number;
  connections: number;
  /** More requests than this awaiting an answer ends the run: the gateway is not keeping up. */
  maxInFlight: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  streamsOk: number;
  failed: number;
  /** The first few failures, for the report. */
  failures: string[];
  durationS: number;
  achievedPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const CHAT = "/v1/chat/completions";

export async function steadyLoad(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(o.origin, {
    connections: o.connections,
    keepAliveTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const headers = { "content-type": "application/json", authorization: `Bearer ${o.apiKey}` };
  const plain = JSON.stringify({ model: "auto", messages: [{ role: "user", content: "Say hello." }] });
  const streamed = JSON.stringify({
    model: "auto",
    messages: [{ role: "user", content: "Say hello slowly." }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const total = Math.round(o.ratePerS * o.durationS);
  const intervalMs = 1000 / o.ratePerS;
  const latencies: number[] = [];
  const result = { sent: 0, ok: 0, streamsOk: 0, failed: 0, failures: [] as string[] };
  const inflight = new Set<Promise<void>>();
  const fail = (why: string) => {
    result.failed++;
    if (result.failures.length < 10) result.failures.push(why);
  };

  const send = (stream: boolean) => {
    const sentMs = performance.now();
    const done = pool
      .request({ method: "POST", path: CHAT, headers, body: stream ? streamed : plain })
      .then(async (res) => {
        const text = await res.body.text();
        const whole = stream ? text.trimEnd().endsWith("data: [DONE]") : text.includes('"chat.completion"');
        if (res.statusCode !== 200 || !whole) return fail(`${res.statusCode} ${text.slice(0, 200)}`);
        latencies.push(performance.now() - sentMs);
        result.ok++;
        if (stream) result.streamsOk++;
      })
      .catch((error: unknown) => fail(String(error)))
      .finally(() => inflight.delete(done));
    inflight.add(done);
  };

  const startMs = performance.now();
  while (result.sent < total) {
    const now = performance.now();
    while (result.sent < total && startMs + result.sent * intervalMs <= now) {
      if (inflight.size >= o.maxInFlight)
        throw new Error(`${inflight.size} requests unanswered: not keeping up`);
      send(result.sent % o.streamEvery === o.streamEvery - 1);
      result.sent++;
    }
    // Pacing: the next request is due at a fixed time whether or not earlier ones have answered.
    await sleep(Math.max(0, startMs + result.sent * intervalMs - performance.now()));
  }
  await Promise.all(inflight);
  const durationS = (performance.now() - startMs) / 1000;
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) =>
    Math.round((sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN) * 10) / 10;
  return {
    ...result,
    durationS: Math.round(durationS * 10) / 10,
    achievedPerS: Math.round(result.sent / durationS),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: at(1),
  };
}

/** Resident set size of `pid` in KiB: /proc where there is one, else ps. */
export function rssKiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    if (kb !== undefined) return Number(kb);
  } catch {
    // No procfs (macOS): ask ps.
  }
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
}

export interface RssSampler {
  /** [ms since start, KiB], one a second. */
  samples: [number, number][];
  stop(): void;
}

export function sampleRss(pid: number, periodMs = 1_000): RssSampler {
  const samples: [number, number][] = [];
  const startMs = Date.now();
  const take = () => samples.push([Date.now() - startMs, rssKiB(pid)]);
  take();
  const timer = setInterval(take, periodMs);
  return { samples, stop: () => clearInterval(timer) };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

export interface RssFigures {
  samples: number;
  /** Median of the first `windowS` seconds after warm-up, MiB. */
  startMiB: number;
  /** Median of the last `windowS` seconds, MiB. */
  endMiB: number;
  peakMiB: number;
  /** (end - start) / start, in percent. */
  growthPct: number;
}

/**
 * RSS growth from just after warm-up to the end. Each end is the median of a window of samples, so
 * one garbage collection landing on a single sample does not decide the figure.
 */
export function rssGrowth(
  samples: readonly [number, number][],
  warmupMs: number,
  windowS: number,
): RssFigures {
  const after = samples.filter(([t]) => t >= warmupMs).map(([, kib]) => kib);
  if (after.length < 2 * windowS) throw new Error(`${after.length} RSS samples after warm-up: too few`);
  const start = median(after.slice(0, windowS));
  const end = median(after.slice(-windowS));
  const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
  return {
    samples: samples.length,
    startMiB: mib(start),
    endMiB: mib(end),
    peakMiB: mib(Math.max(...samples.map(([, kib]) => kib))),
    growthPct: Math.round(((end - start) / start) * 1000) / 10,
  };
}
