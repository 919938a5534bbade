import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gatewayConfigSchema } from "../../host/config/index.js";
import { Core } from "../../host/core/index.js";
import { createLogger } from "../../host/logger.js";
import { createQueueMetrics, type QueueItem, type QueueStore, SyncWorker } from "../../host/queue/index.js";
import { buildTargets, type Target } from "../../host/routing/targets.js";
import { type FakeOpenAIUpstream, startFakeOpenAIUpstream } from "../fakes/openai-upstream.js";
import { chatInput, ManualClock, mustEnqueue, type QueueDir, queueDir } from "./fixtures.js";

// The sync worker against a fake cloud on real HTTP, with the target table and the policy core built
// from a parsed config as the gateway builds them. Wall time is a manual clock: whenever the worker
// puts an item back for later, the clock jumps to that item's due time, so retries follow at once
// and the delays the core chose can be checked.

const MAX_ATTEMPTS = 3;
const BASE_MS = 1_000;
const CAP_MS = 60_000;
const CHAT = "/v1/chat/completions";
const BARRIER_MS = 10_000;

let qd: QueueDir;
let cloud: FakeOpenAIUpstream;
let clock: ManualClock;
let store: QueueStore;
let workers: SyncWorker[];
/** Delays (ms) the worker scheduled, in order. */
let delays: number[];

beforeEach(async () => {
  qd = queueDir("gw-worker-");
  cloud = await startFakeOpenAIUpstream({ reply: "cloud answer", apiKey: "cloud-secret" });
  clock = new ManualClock();
  store = qd.open(undefined, clock.now);
  workers = [];
  delays = [];
  store.on("changed", (id, status) => {
    const item = store.get(id);
    if (status !== "queued" || !item || item.nextAttemptAtMs <= clock.ms) return;
    delays.push(item.nextAttemptAtMs - clock.ms);
    clock.ms = item.nextAttemptAtMs;
  });
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await cloud.close();
  qd.cleanup();
});

function startWorker(concurrency = 4): SyncWorker {
  const config = gatewayConfigSchema.parse({
    cloud: { url: cloud.url, apiKey: "cloud-secret", name: "main", model: "gpt-test" },
    core: {
      seed: 42,
      retry: { baseMs: BASE_MS, capMs: CAP_MS, maxAttempts: MAX_ATTEMPTS },
      // Retries, not the circuit breaker, are under test here.
      health: { failureThreshold: 100 },
    },
  });
  const targets: Target[] = buildTargets(config);
  const core = Core.load(config.core);
  core.configureTargets(targets.map((t) => t.spec));
  const worker = new SyncWorker({
    store,
    core,
    clock: { nowMs: clock.now },
    logger: createLogger({ level: "silent" }),
    metrics: createQueueMetrics(new Registry(), () => store),
    targets,
    concurrency,
    leaseMs: 600_000,
    pollMs: 1_000,
    retentionMs: 7 * 86_400_000,
    now: clock.now,
  });
  workers.push(worker);
  worker.start();
  return worker;
}

/** Resolves once `predicate` holds, re-checked on every status change; fails after BARRIER_MS. */
function until(predicate: () => boolean, what: string): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      clearTimeout(timer);
      store.off("changed", check);
      resolve();
    };
    const timer = setTimeout(() => {
      store.off("changed", check);
      reject(new Error(`timed out waiting for ${what}`));
    }, BARRIER_MS);
    store.on("changed", check);
  });
}

const current = (id: string): QueueItem => store.get(id) as QueueItem;
const statusIs = (id: string, status: string) => () => store.get(id)?.status === status;
const chatRequests = () => cloud.requests.filter((r) => r.path === CHAT);

describe("the sync worker", () => {
  it("delivers an item with its id as Idempotency-Key and stores the cloud's answer byte for byte", async () => {
    startWorker();
    const item = await mustEnqueue(store, chatInput());
    await until(statusIs(item.id, "done"), "delivery");
    const done = current(item.id);
    expect(done).toMatchObject({ attempts: 1, resultStatus: 200, leaseOwner: null, lastError: null });
    expect(chatRequests()).toHaveLength(1);
    expect(chatRequests()[0]?.headers["idempotency-key"]).toBe(item.id);
    expect(chatRequests()[0]?.body.model).toBe("gpt-test");
    const answer = JSON.parse(done.resultBody?.toString("utf8") ?? "");
    expect(answer.choices[0].message.content).toBe("cloud answer");
  });

  it("dead-letters an item after maxAttempts when the cloud answers 503 every time", async () => {
    cloud.always({ status: 503, path: CHAT });
    startWorker();
    const item = await mustEnqueue(store, chatInput());
    await until(statusIs(item.id, "dead"), "dead-lettering");
    const dead = current(item.id);
    expect(dead.attempts).toBe(MAX_ATTEMPTS);
    expect(dead.lastError).toMatch(/^http 503: /);
    expect(dead.resultStatus).toBe(503);
    expect(dead.finishedAtMs).not.toBeNull();
    expect(chatRequests()).toHaveLength(MAX_ATTEMPTS);
    // Full jitter: each wait is in [0, min(cap, base * 2^(n-1))) after the n-th failure.
    expect(delays).toHaveLength(MAX_ATTEMPTS - 1);
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(CAP_MS, BASE_MS * 2 ** i));
    });
  });

  it("fails at once on a 400, keeping the cloud's error body, and never retries it", async () => {
    const errorBody = '{"error":{"message":"bad request","type":"invalid_request_error"}}';
    cloud.next({ status: 400, errorBody, path: CHAT });
    startWorker();
    const item = await mustEnqueue(store, chatInput());
    await until(statusIs(item.id, "failed"), "permanent failure");
    const failed = current(item.id);
    expect(failed).toMatchObject({ attempts: 1, resultStatus: 400 });
    expect(failed.resultBody?.toString("utf8")).toBe(errorBody);
    expect(failed.lastError).toMatch(/^http 400: /);
    expect(chatRequests()).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("sends an operator-retried dead item again from attempt 0 and delivers it once the cloud recovers", async () => {
    cloud.always({ status: 503, path: CHAT });
    startWorker();
    const item = await mustEnqueue(store, chatInput());
    await until(statusIs(item.id, "dead"), "dead-lettering");
    cloud.always({});
    expect(store.retry(item.id)).toBe(true);
    await until(statusIs(item.id, "done"), "delivery after retry");
    expect(current(item.id)).toMatchObject({ attempts: 1, resultStatus: 200, lastError: null });
    expect(chatRequests()).toHaveLength(MAX_ATTEMPTS + 1);
    expect(new Set(chatRequests().map((r) => r.headers["idempotency-key"]))).toEqual(new Set([item.id]));
  });

  it("waits at least as long as the cloud's Retry-After before the next try", async () => {
    cloud.next({ status: 429, retryAfterS: 120, path: CHAT });
    startWorker();
    const item = await mustEnqueue(store, chatInput());
    await until(statusIs(item.id, "done"), "delivery after a 429");
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(120_000);
    expect(current(item.id).attempts).toBe(2);
  });

  it("reclaims at start a lease a dead process left behind and delivers the item with the same key", async () => {
    const item = await mustEnqueue(store, chatInput());
    expect(store.claimDue("w_dead_process", 10, 600_000).map((i) => i.id)).toEqual([item.id]);
    startWorker();
    await until(statusIs(item.id, "done"), "delivery of the reclaimed item");
    // The dead process's attempt may have reached the cloud: it counts.
    expect(current(item.id).attempts).toBe(2);
    expect(chatRequests().map((r) => r.headers["idempotency-key"])).toEqual([item.id]);
  });

  it("cancels a queued item before it is sent, but not the one in flight, which stop() puts back", async () => {
    cloud.always({ hang: true, path: CHAT });
    const worker = startWorker(1);
    const first = await mustEnqueue(store, chatInput({ priority: 3 }));
    const second = await mustEnqueue(store, chatInput({ priority: 1 }));
    await cloud.until(() => chatRequests().length === 1);
    expect(current(first.id).status).toBe("inflight");
    expect(store.cancel(first.id)).toBe("inflight");
    expect(store.cancel(second.id)).toBe("cancelled");
    await worker.stop();
    // The aborted delivery does not count as an attempt and goes back to the queue.
    expect(current(first.id)).toMatchObject({ status: "queued", attempts: 0, leaseOwner: null });
    expect(current(second.id).status).toBe("cancelled");
    expect(chatRequests().map((r) => r.headers["idempotency-key"])).toEqual([first.id]);
  });
});
