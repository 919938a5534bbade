import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CloudMonitor } from "../../host/connectivity/cloud-monitor.js";
import { Core, coreConfigSchema, TargetKind } from "../../host/core/index.js";
import { createLogger } from "../../host/logger.js";
import { type Provider, ProviderError } from "../../host/providers/types.js";
import { createQueueMetrics, QueueStore, SyncWorker } from "../../host/queue/index.js";
import type { Target } from "../../host/routing/targets.js";

// A worker that cannot claim a due item (the link is down, or every slot is busy) must sleep until
// something can change that, not re-arm a 0 ms timer: offline for hours, that is a query a
// millisecond. Fake timers count the wake-ups over ten poll periods without waiting for them.

const POLL_MS = 1_000;
const PERIODS = 10;

/** A cloud that accepts every call and answers none, until the call is aborted. */
function silentCloud(): Provider {
  return {
    name: "cloud/test",
    kind: "cloud",
    endpoints: ["chat/completions"],
    call: (_endpoint, _body, { signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener("abort", () => reject(new ProviderError("aborted", "stopped")), {
          once: true,
        });
      }),
    probe: async () => undefined,
    close: async () => undefined,
  };
}

let dir: string;
let store: QueueStore;
let worker: SyncWorker | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gw-worker-idle-"));
  store = new QueueStore(join(dir, "queue.db"), { limits: { maxRows: 100, maxBytes: 1_000_000 } });
  // setImmediate stays real: the store's group commit runs on it.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
});

afterEach(async () => {
  const stopping = worker?.stop();
  vi.useRealTimers();
  await stopping;
  worker = undefined;
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(monitor: CloudMonitor | undefined, provider: Provider, concurrency: number) {
  const core = Core.load(coreConfigSchema.parse({}));
  const spec = {
    kind: TargetKind.Cloud,
    contextTokens: 8_000,
    capabilities: 0,
    taskMask: 31,
    memoryMb: 0,
    maxInflight: 0,
  };
  core.configureTargets([spec]);
  const target: Target = { index: 0, id: "cloud/test", kind: "cloud", provider, models: {}, spec };
  worker = new SyncWorker({
    store,
    core,
    clock: { nowMs: () => Date.now() },
    logger: createLogger({ level: "silent" }),
    metrics: createQueueMetrics(new Registry(), () => store),
    targets: [target],
    monitor,
    concurrency,
    leaseMs: 600_000,
    pollMs: POLL_MS,
    retentionMs: 86_400_000,
  });
  worker.start();
}

async function enqueue(count: number): Promise<void> {
  const payload = Buffer.from(JSON.stringify({ messages: [{ role: "user", content: "hi" }] }));
  for (let i = 0; i < count; i++) {
    await store.enqueue({
      clientId: "c",
      kind: "chat",
      target: "cloud/test",
      endpoint: "chat/completions",
      payload,
      priority: 2,
    });
  }
}

describe("the sync worker while it cannot claim", () => {
  it("sleeps a poll period at a time while the cloud is unreachable, instead of spinning", async () => {
    await enqueue(1);
    const core = Core.load(coreConfigSchema.parse({}));
    const monitor = new CloudMonitor({
      provider: silentCloud(),
      core,
      logger: createLogger({ level: "silent" }),
      intervalMs: 60_000,
      minMs: 60_000,
      maxMs: 60_000,
      passiveFailures: 1,
    });
    // Never started, so it never probes: one failed request marks the link down and keeps it so.
    monitor.reportFailure();
    expect(monitor.reachable).toBe(false);
    const looks = vi.spyOn(store, "nextDueAtMs");
    startWorker(monitor, silentCloud(), 4);
    vi.advanceTimersByTime(PERIODS * POLL_MS);
    expect(store.get(store.list(null)[0]?.id ?? "")?.status).toBe("queued");
    expect(looks.mock.calls.length).toBeLessThanOrEqual(PERIODS + 2);
  });

  it("sleeps while every delivery slot is busy, instead of spinning", async () => {
    await enqueue(3);
    const looks = vi.spyOn(store, "nextDueAtMs");
    startWorker(undefined, silentCloud(), 1);
    vi.advanceTimersByTime(PERIODS * POLL_MS);
    expect(store.stats().byStatus).toMatchObject({ inflight: 1, queued: 2 });
    expect(looks.mock.calls.length).toBeLessThanOrEqual(PERIODS + 2);
  });
});
