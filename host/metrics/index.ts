export { type CoreMetricsSource, registerCoreMetrics } from "./core-collector.js";
export { createGatewayMetrics, type GatewayMetrics, type TargetStateSource } from "./gateway-metrics.js";
export { type CreateMetricsOptions, createMetrics, type Metrics } from "./registry.js";
