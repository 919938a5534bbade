export { type CoreMetricsSource, registerCoreMetrics } from "./core-collector.js";
export { type CreateMetricsOptions, createMetrics, type Metrics } from "./registry.js";
