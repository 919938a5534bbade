import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { QueueStore } from "./store.js";
import { QUEUE_STATUSES } from "./types.js";

export function createQueueMetrics(
  registry: Registry,
  getStore: () => QueueStore | undefined,
  now: () => number = Date.now,
) {
  const registers = [registry];
  new Gauge({
    name: "gateway_queue_depth",
    help: "Items in the durable queue by status.",
    labelNames: ["status"] as const,
    registers,
    collect() {
      const stats = getStore()?.stats();
      if (!stats) return;
      for (const status of QUEUE_STATUSES) this.set({ status }, stats.byStatus[status]);
    },
  });
  new Gauge({
    name: "gateway_queue_oldest_age_seconds",
    help: "Age of the oldest item not yet delivered (queued or in flight); 0 when there is none.",
    registers,
    collect() {
      const oldest = getStore()?.stats().oldestActiveAtMs;
      this.set(oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });
  return {
    attempts: new Counter({
      name: "gateway_queue_sync_attempts_total",
      help: "Delivery attempts by outcome: delivered, retry, rate_limited, failed (permanent), dead, unreachable (not counted as an attempt).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    deliverySeconds: new Histogram({
      name: "gateway_queue_delivery_seconds",
      help: "From enqueue to delivery.",
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 21600, 86400],
      registers,
    }),
  };
}

export type QueueMetrics = ReturnType<typeof createQueueMetrics>;
