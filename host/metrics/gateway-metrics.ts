import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { Recent, type RecentDecision, type RecentRejection } from "./recent.js";

/** Read at scrape time: each target's id and circuit state (0 closed, 1 open, 2 half-open). */
export interface TargetStateSource {
  circuits(): readonly { target: string; state: number }[];
  /** Undefined when no cloud is configured. */
  cloudReachable(): boolean | undefined;
}

const LATENCY_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const RECENT = 20;

export function createGatewayMetrics(registry: Registry, source: TargetStateSource) {
  const registers = [registry];
  const recentDecisions = new Recent<RecentDecision>(RECENT);
  const recentRejections = new Recent<RecentRejection>(RECENT);
  /** `tier/limit` -> refusals since start. */
  const rejectionTotals = new Map<string, number>();
  const routeDecisions = new Counter({
    name: "gateway_route_decisions_total",
    help: "Routing decisions: the target chosen (or queue/reject) and the core's reason.",
    labelNames: ["target", "reason"] as const,
    registers,
  });
  const rateLimitRejections = new Counter({
    name: "gateway_ratelimit_rejections_total",
    help: "Requests refused with 429, by tier and the limit that was hit.",
    labelNames: ["tier", "limit"] as const,
    registers,
  });
  const metrics = {
    /** The last routing decisions and rate-limit refusals, newest first (the status page shows them). */
    recentDecisions,
    recentRejections,
    rejectionTotals,
    httpRequests: new Counter({
      name: "gateway_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "gateway_http_request_duration_seconds",
      help: "Time to the response headers (for streams: to the first byte), by route pattern.",
      labelNames: ["method", "route"] as const,
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    routeDecisions: {
      inc(labels: { target: string; reason: string }): void {
        routeDecisions.inc(labels);
        recentDecisions.push({ atMs: Date.now(), ...labels });
      },
    },
    upstreamDuration: new Histogram({
      name: "gateway_upstream_duration_seconds",
      help: "Upstream calls, from request to first byte of the body, by target and outcome.",
      labelNames: ["target", "outcome"] as const,
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    tokens: new Counter({
      name: "gateway_tokens_total",
      help: "LLM tokens by target and direction (prompt = in, completion = out), as the upstream reported them.",
      labelNames: ["target", "direction"] as const,
      registers,
    }),
    rateLimitRejections: {
      inc(labels: { tier: string; limit: string }): void {
        rateLimitRejections.inc(labels);
        recentRejections.push({ atMs: Date.now(), ...labels });
        const key = `${labels.tier}/${labels.limit}`;
        rejectionTotals.set(key, (rejectionTotals.get(key) ?? 0) + 1);
      },
    },
  };
  new Gauge({
    name: "gateway_circuit_state",
    help: "Circuit breaker per target: 0 closed, 1 open, 2 half-open.",
    labelNames: ["target"] as const,
    registers,
    collect() {
      this.reset();
      for (const { target, state } of source.circuits()) this.set({ target }, state);
    },
  });
  new Gauge({
    name: "gateway_cloud_reachable",
    help: "1 while the cloud answers (probe and real requests), 0 while it does not. Absent without a cloud.",
    registers,
    collect() {
      const reachable = source.cloudReachable();
      if (reachable === undefined) this.remove();
      else this.set(reachable ? 1 : 0);
    },
  });
  return metrics;
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
