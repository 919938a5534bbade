import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type MockUpstream, startMockUpstream } from "../bench/mock-upstream.js";
import { type CliProcess, spawnCli } from "../e2e/cli-process.js";
import { CHAOS_FULL, envInt } from "./chaos-profile.js";
import { freePort, stopChild } from "./gateway-child.js";
import { type RssSampler, rssGrowth, sampleRss, steadyLoad } from "./soak-load.js";

// Soak: chat completions at a steady rate through the gateway (a child process, the CLI through
// tsx) to the lean mock cloud on 127.0.0.1, one in five streamed, while the gateway's resident set
// is sampled once a second. Every answer must be whole (a completion, or a stream to [DONE]), the
// load must hold its rate, and RSS may grow only so much from the end of warm-up to the end.
//
// Full (CHAOS_FULL=1): 10 minutes at 500 req/s, 60 s warm-up, growth under 10%. Short (npm test):
// 20 s at 200 req/s, 5 s warm-up, reported with a lenient bound: a short run still sees the heap
// settle. CHAOS_SOAK_SECONDS and CHAOS_SOAK_RATE override the duration and the rate.

const SECONDS = envInt("CHAOS_SOAK_SECONDS", CHAOS_FULL ? 600 : 20);
const RATE_PER_S = envInt("CHAOS_SOAK_RATE", CHAOS_FULL ? 500 : 200);
const WARMUP_S = CHAOS_FULL ? 60 : 5;
/** Seconds of samples whose median stands for each end of the measured span. */
const WINDOW_S = CHAOS_FULL ? 10 : 3;
const MAX_GROWTH_PCT = CHAOS_FULL ? 10 : 50;
const KEY = "soak-key";

let gateway: CliProcess | undefined;
let mock: MockUpstream | undefined;
let sampler: RssSampler | undefined;
let dir: string | undefined;

afterEach(async () => {
  sampler?.stop();
  await stopChild(gateway);
  await mock?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = gateway = mock = sampler = undefined;
});

/** The gateway logs at warn (no line per request), so start-up is seen on /health. */
async function healthy(url: string, child: CliProcess, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.child.exitCode !== null) throw new Error(`gateway exited: ${child.stderr()}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`gateway not healthy within ${timeoutMs} ms; stderr: ${child.stderr()}`);
}

describe("soak", () => {
  it(
    `serves ${RATE_PER_S} req/s for ${SECONDS} s with every answer whole and RSS growth under ${MAX_GROWTH_PCT}%`,
    async () => {
      dir = mkdtempSync(join(tmpdir(), "gw-chaos-soak-"));
      mock = await startMockUpstream();
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      gateway = spawnCli(["serve"], {
        GATEWAY_PORT: String(port),
        GATEWAY_DATA_DIR: dir,
        GATEWAY_API_KEYS: KEY,
        GATEWAY_LOG_LEVEL: "warn",
        GATEWAY_MODELS__ENABLED: "false",
        GATEWAY_CLOUD_URL: mock.url,
        GATEWAY_CLOUD_API_KEY: "x",
        GATEWAY_CORE__LIMITER__TIERS__DEFAULT__REQUESTS_PER_MINUTE: "0",
        GATEWAY_CORE__LIMITER__TIERS__DEFAULT__TOKENS_PER_MINUTE: "0",
      });
      await healthy(url, gateway);
      const pid = gateway.child.pid as number;
      sampler = sampleRss(pid);

      const load = await steadyLoad({
        origin: url,
        apiKey: KEY,
        ratePerS: RATE_PER_S,
        durationS: SECONDS,
        streamEvery: 5,
        connections: 32,
        maxInFlight: RATE_PER_S * 10,
      });
      sampler.stop();
      const rss = rssGrowth(sampler.samples, WARMUP_S * 1_000, WINDOW_S);
      const figures = {
        chaos: "soak",
        profile: CHAOS_FULL ? "full" : "short",
        seconds: SECONDS,
        ratePerS: RATE_PER_S,
        warmupS: WARMUP_S,
        ...load,
        rss,
        rssSeriesMiB: sampler.samples
          .filter((_, i) => i % (CHAOS_FULL ? 30 : 5) === 0)
          .map(([, k]) => Math.round(k / 1024)),
      };
      console.info(JSON.stringify(figures));

      expect(load.failures).toEqual([]);
      expect(load.ok).toBe(load.sent);
      expect(load.streamsOk).toBe(Math.floor(load.sent / 5));
      expect(load.achievedPerS).toBeGreaterThanOrEqual(RATE_PER_S * 0.95);
      expect(rss.growthPct).toBeLessThan(MAX_GROWTH_PCT);
      // Still serving, and the process is the one that started.
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(gateway.child.exitCode).toBeNull();
    },
    (SECONDS + 120) * 1_000,
  );
});
