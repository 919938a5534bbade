/**
 * Drain rate: a backlog written with the store, then the real SyncWorker delivering it to the lean
 * mock cloud (its own process) until every item is done. Each store method the worker calls is
 * timed, so a missed target names where the time went.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { QueueStore } from "../../../host/queue/index.js";
import { fillBacklog, round } from "./store-rates.js";
import { benchWorker } from "./worker-setup.js";

const TIMED = [
  "claimDue",
  "finish",
  "reschedule",
  "release",
  "nextDueAtMs",
  "reclaimLeases",
  "expire",
] as const;

export interface MethodTime {
  calls: number;
  ms: number;
  /** Of the drain's wall time: the store is synchronous, so this time the event loop did nothing else. */
  shareOfWall: number;
}

export interface DrainResult {
  concurrency: number;
  items: number;
  delivered: number;
  /** Items that ended in any other way (retry, failure): should be 0. */
  other: number;
  seconds: number;
  itemsPerS: number;
  timedOut: boolean;
  storeTime: Record<string, MethodTime>;
}

/** Wraps the store's own methods (on the instance) to add up their time and calls. */
function timeMethods(store: QueueStore): Record<string, { calls: number; ms: number }> {
  const totals: Record<string, { calls: number; ms: number }> = {};
  const target = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of TIMED) {
    const original = target[name] as (...args: unknown[]) => unknown;
    const total = { calls: 0, ms: 0 };
    totals[name] = total;
    target[name] = (...args: unknown[]) => {
      const startMs = performance.now();
      try {
        return original.apply(store, args);
      } finally {
        total.ms += performance.now() - startMs;
        total.calls++;
      }
    };
  }
  return totals;
}

export async function drain(options: {
  dir: string;
  cloudUrl: string;
  items: number;
  concurrency?: number;
  boundS: number;
}): Promise<DrainResult> {
  const store = new QueueStore(join(options.dir, `drain-${options.concurrency ?? "default"}.db`), {
    limits: { maxRows: 10_000_000, maxBytes: 2 ** 40 },
  });
  const setup = benchWorker(store, options.cloudUrl, options.concurrency);
  try {
    await fillBacklog(store, options.items);
    const totals = timeMethods(store);
    let delivered = 0;
    let other = 0;
    const startMs = performance.now();
    const timedOut = await new Promise<boolean>((resolve) => {
      const bound = setTimeout(() => resolve(true), options.boundS * 1000);
      store.on("changed", (_id, status) => {
        if (status === "done") delivered++;
        else other++;
        if (delivered + other === options.items) {
          clearTimeout(bound);
          resolve(false);
        }
      });
      setup.worker.start();
    });
    const elapsedMs = performance.now() - startMs;
    const storeTime: Record<string, MethodTime> = {};
    for (const [name, t] of Object.entries(totals)) {
      if (t.calls > 0)
        storeTime[name] = { calls: t.calls, ms: round(t.ms, 1), shareOfWall: round(t.ms / elapsedMs, 3) };
    }
    return {
      concurrency: setup.concurrency,
      items: options.items,
      delivered,
      other,
      seconds: round(elapsedMs / 1000, 3),
      itemsPerS: Math.round((delivered * 1000) / elapsedMs),
      timedOut,
      storeTime,
    };
  } finally {
    await setup.close();
    store.close();
  }
}
