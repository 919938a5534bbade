export { type QueueConfig, queueConfigSchema } from "./config.js";
export { createQueueMetrics, type QueueMetrics } from "./metrics.js";
export { MIGRATIONS, migrate } from "./migrations.js";
export { queueRoutes } from "./routes.js";
export { newItemId, type QueueLane, type QueueLimits, QueueStore } from "./store.js";
export * from "./types.js";
export { itemView } from "./view.js";
export { SyncWorker, type SyncWorkerOptions } from "./worker.js";
