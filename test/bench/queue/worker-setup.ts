/** A sync worker wired as host/main.ts wires it, from a parsed config, delivering to `cloudUrl`. */
import { Registry } from "prom-client";
import { systemClock } from "../../../host/clock.js";
import { gatewayConfigSchema } from "../../../host/config/index.js";
import { Core } from "../../../host/core/index.js";
import { createLogger } from "../../../host/logger.js";
import { createQueueMetrics, type QueueStore, SyncWorker } from "../../../host/queue/index.js";
import { buildTargets } from "../../../host/routing/targets.js";

export function benchWorker(store: QueueStore, cloudUrl: string, concurrency?: number) {
  const config = gatewayConfigSchema.parse({
    cloud: { url: cloudUrl, apiKey: "bench" },
    core: { seed: 1 },
    queue: concurrency === undefined ? {} : { concurrency },
  });
  const targets = buildTargets(config);
  const core = Core.load(config.core);
  core.configureTargets(targets.map((t) => t.spec));
  const worker = new SyncWorker({
    store,
    core,
    clock: systemClock,
    logger: createLogger({ level: "warn" }),
    metrics: createQueueMetrics(new Registry(), () => store),
    targets,
    concurrency: config.queue.concurrency,
    leaseMs: config.queue.leaseMs,
    pollMs: config.queue.pollMs,
    retentionMs: config.queue.retentionMs,
  });
  return {
    worker,
    concurrency: config.queue.concurrency,
    async close() {
      await worker.stop();
      await Promise.allSettled(targets.map((t) => t.provider.close()));
    },
  };
}
