import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as pace } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../host/config/index.js";
import { createLogger } from "../../host/logger.js";
import { type RunningGateway, startGateway } from "../../host/main.js";
import { captureLog } from "../e2e/log-capture.js";
import {
  type Behaviour,
  type FakeOpenAIUpstream,
  startFakeOpenAIUpstream,
} from "../fakes/openai-upstream.js";
import { busySpans, coveredMs, unreachableSpans, watchEventLoop } from "./intervals.js";
import { newSent, sendQueued, waitFinished } from "./queue-client.js";
import { recordingProviders } from "./recording-provider.js";

// The cloud goes down and comes back every few hundred ms (closed, then listening again on its
// port, its idempotency memory kept), and while up answers some requests 500 or 429 Retry-After: 1.
// Every queued item must end delivered once, and the wait before each retry must follow the core's
// policy. The pauses below pace the chaos; nothing waits on them for a result.

const ITEMS = 100;
const KEY = "flap-key";
const CLOUD_KEY = "cloud-secret";
const CHAT = "/v1/chat/completions";
const BASE_MS = 50;
const CAP_MS = 500;
const POLL_MS = 100;
const CONCURRENCY = 64;
const RETRY_AFTER_S = 1;
/**
 * Beyond the backoff and a poll period, once the spans the worker could not send in are taken out:
 * the event-loop watch's resolution (5 ms period, 2 ms threshold), the claim's SQLite transaction and
 * the start of the HTTP call. The largest excess seen is printed as `maxExcessMs`.
 */
const TOLERANCE_MS = 50;
const UP_MS = [300, 200, 400, 250, 350];
const DOWN_MS = [250, 400, 200, 300, 350];
/**
 * Queued on each return of the cloud for the first chat requests it gets: about one in four of the
 * items still to deliver, so the last few are not failed by every life of the cloud.
 */
function misbehaviour(remaining: number): Behaviour[] {
  return Array.from({ length: Math.min(12, Math.ceil(remaining / 4)) }, (_, i) =>
    i % 2 === 0 ? { path: CHAT, status: 500 } : { path: CHAT, status: 429, retryAfterS: RETRY_AFTER_S },
  );
}

let gateway: RunningGateway | undefined;
const clouds: FakeOpenAIUpstream[] = [];
let dir: string | undefined;
let loop: ReturnType<typeof watchEventLoop> | undefined;

afterEach(async () => {
  loop?.stop();
  await gateway?.close();
  await Promise.all(clouds.map((c) => c.close().catch(() => undefined)));
  clouds.length = 0;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = gateway = loop = undefined;
});

describe("the offline queue against a flapping cloud", () => {
  it("delivers every item once, waiting between attempts as the core's backoff says", async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-chaos-flap-"));
    const log = captureLog();
    loop = watchEventLoop();
    const { stalls } = loop;
    const { factory, calls } = recordingProviders();
    let cloud = await startFakeOpenAIUpstream({ apiKey: CLOUD_KEY, dedupe: true });
    clouds.push(cloud);
    const port = Number(new URL(cloud.url).port);
    const ledger = cloud.ledger;
    if (ledger === undefined) throw new Error("dedupe gives a ledger");
    const config = gatewayConfigSchema.parse({
      server: { host: "127.0.0.1", port: 0, dataDir: dir },
      log: { level: "warn" },
      models: { enabled: false },
      auth: { envKeys: KEY },
      cloud: { url: cloud.url, apiKey: CLOUD_KEY, probeMinMs: 50, probeMaxMs: 100, passiveFailures: 1 },
      core: {
        limiter: { tiers: { default: { requestsPerMinute: 0, tokensPerMinute: 0 } } },
        retry: { baseMs: BASE_MS, capMs: CAP_MS, maxAttempts: 1_000 },
        // The circuit breaker would add its own waits (not attempts); this test is about the backoff.
        health: { failureThreshold: 1_000_000, openErrorRate: 1 },
      },
      queue: { pollMs: POLL_MS, concurrency: CONCURRENCY },
    });
    gateway = await startGateway(config, {
      logger: createLogger({ level: "warn", destination: log.destination }),
      handleSignals: false,
      createProvider: factory,
    });

    // Down before the items arrive: the gateway learns it from its first deliveries (refused).
    await cloud.close();
    const sent = newSent();
    const indices = Array.from({ length: ITEMS }, (_, i) => i);
    await sendQueued({ url: gateway.url, key: KEY, indices, inFlight: 20, sent });
    expect(sent.acked.size).toBe(ITEMS);
    const ids = [...sent.acked.values()];

    const deadline = Date.now() + 20_000;
    let up = false;
    for (let round = 0; round < 100 && Date.now() < deadline; round++) {
      await pace(DOWN_MS[round % DOWN_MS.length]);
      cloud = await startFakeOpenAIUpstream({ port, apiKey: CLOUD_KEY, dedupe: ledger });
      clouds.push(cloud);
      up = true;
      // Answers leave 80 ms after execution, so a closing cloud cuts some off.
      cloud.always({ path: CHAT, firstByteDelayMs: 80 });
      for (const b of misbehaviour(ITEMS - ledger.executions.size)) cloud.next(b);
      await pace(UP_MS[round % UP_MS.length]);
      if (ledger.executions.size === ITEMS) break;
      await cloud.close();
      up = false;
    }
    if (!up) clouds.push(await startFakeOpenAIUpstream({ port, apiKey: CLOUD_KEY, dedupe: ledger }));

    const views = await waitFinished(gateway.url, KEY, ids, Date.now() + 15_000);
    for (const id of ids) {
      const raw = await fetch(`${gateway.url}/v1/queue/${id}/result`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(await raw.text()).toBe(ledger.answers.get(id));
    }
    const endMs = Date.now();
    loop.stop();
    await gateway.close();
    gateway = undefined;

    const records = clouds.flatMap((c) => c.requests.filter((r) => r.method === "POST" && r.path === CHAT));
    const recordOf = new Map(records.map((r) => [Number(r.headers["x-chaos-call"]), r]));
    const allCalls = [...calls.values()].flat();
    // The worker cannot send while its monitor says the cloud is down, all its slots are busy, or
    // the event loop it shares with the fake and this test is held up (a busy 2-core machine).
    const blocked = [
      ...stalls,
      ...unreachableSpans(log.lines, endMs),
      ...busySpans(
        allCalls.map((c) => [c.startMs, c.endMs ?? endMs] as const),
        CONCURRENCY,
      ),
    ];
    let maxExcessMs = Number.NEGATIVE_INFINITY;
    let retries = 0;
    for (const id of ids) {
      const list = calls.get(id) ?? [];
      expect(views.get(id)?.status, id).toBe("done");
      expect(ledger.executions.get(id), id).toBe(1);
      // Every call counts as an attempt except a refused connection (the cloud never saw it); the
      // cloud saw those that reached it, no others.
      const counted = (calls: typeof list) => calls.filter((c) => c.error?.kind !== "connect").length;
      expect(views.get(id)?.attempts).toBe(counted(list));
      const reached = list.filter((c) => recordOf.has(c.seq));
      expect(ledger.received.get(id)).toBe(reached.length);
      for (const c of list.filter((c) => !recordOf.has(c.seq)))
        expect(["connect", "protocol"]).toContain(c.error?.kind);
      expect(list.at(-1)?.error).toBeUndefined();
      for (const c of list.slice(0, -1)) expect(c.error).toBeDefined();

      for (let k = 1; k < list.length; k++) {
        const prev = list[k - 1];
        const next = list[k];
        if (prev?.endMs === undefined || next === undefined) throw new Error("a call without an end");
        retries++;
        // prev was attempt a (its claim counted it): the core waits uniform
        // [0, min(cap, base * 2^(a-1))), or the Retry-After.
        const a = counted(list.slice(0, k - 1)) + 1;
        const retryAfterMs = prev.error?.retryAfterMs ?? 0;
        const ceilingMs = Math.max(Math.min(CAP_MS, BASE_MS * 2 ** (a - 1)), retryAfterMs);
        const gapMs = next.startMs - prev.endMs;
        expect(gapMs, `${id} attempt ${k + 1}`).toBeGreaterThanOrEqual(retryAfterMs);
        const prevSeen = recordOf.get(prev.seq);
        const nextSeen = recordOf.get(next.seq);
        if (retryAfterMs > 0 && prevSeen && nextSeen)
          expect(nextSeen.atMs - prevSeen.atMs).toBeGreaterThanOrEqual(retryAfterMs);
        const excessMs = gapMs - coveredMs(prev.endMs, next.startMs, blocked) - ceilingMs;
        maxExcessMs = Math.max(maxExcessMs, excessMs);
        expect(excessMs, `${id} attempt ${k + 1}`).toBeLessThanOrEqual(POLL_MS + TOLERANCE_MS);
      }
    }

    const failures = (p: (e: NonNullable<(typeof allCalls)[number]["error"]>) => boolean) =>
      allCalls.filter((c) => c.error !== undefined && p(c.error)).length;
    const summary = {
      chaos: "queue-flapping",
      items: ITEMS,
      cloudLives: clouds.length,
      attempts: allCalls.length,
      retries,
      refused: failures((e) => e.kind === "connect"),
      cut: failures((e) => e.kind === "protocol"),
      http500: failures((e) => e.status === 500),
      http429: failures((e) => e.status === 429),
      replayed: records.filter((r) => r.idempotency === "replayed").length,
      maxExcessMs,
      stalledMs: stalls.reduce((sum, [s, e]) => sum + e - s, 0),
    };
    console.info(JSON.stringify(summary));
    // The chaos happened: the cloud flapped, refused, failed and rate-limited.
    expect(summary.cloudLives).toBeGreaterThanOrEqual(3);
    expect(summary.refused).toBeGreaterThan(0);
    expect(summary.http500).toBeGreaterThan(0);
    expect(summary.http429).toBeGreaterThan(0);
  }, 30_000);
});
