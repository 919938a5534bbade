import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { type CoreMetricsSource, registerCoreMetrics } from "./core-collector.js";
import { createGatewayMetrics, type GatewayMetrics, type TargetStateSource } from "./gateway-metrics.js";

export interface Metrics {
  /** Everything `/metrics` serves. Owned by this gateway instance, never prom-client's global one. */
  registry: Registry;
  gateway: GatewayMetrics;
}

export interface CreateMetricsOptions {
  getCore?: () => CoreMetricsSource | undefined;
  /** Read at scrape time for `gateway_ready`; the gateway is not ready until told otherwise. */
  isReady?: () => boolean;
  /** Circuit states and cloud reachability, read at scrape time. */
  targets?: TargetStateSource;
}

const NO_TARGETS: TargetStateSource = { circuits: () => [], cloudReachable: () => undefined };

export function createMetrics({
  getCore = () => undefined,
  isReady = () => false,
  targets = NO_TARGETS,
}: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  // No prefix: dashboards and alerts expect the standard names (process_resident_memory_bytes, ...).
  collectDefaultMetrics({ register: registry });
  registerCoreMetrics({ registry, getCore });
  new Gauge({
    name: "gateway_ready",
    help: "1 when the gateway answers /ready with 200: core loaded and data directory writable.",
    registers: [registry],
    collect() {
      this.set(isReady() ? 1 : 0);
    },
  });
  return { registry, gateway: createGatewayMetrics(registry, targets) };
}
