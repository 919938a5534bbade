import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { UpstreamState } from "./upstream.js";

/** Per-upstream and per-tool figures of the MCP gateway. Tool labels come from configured upstreams only. */
export function createMcpMetrics(registry: Registry, upstreams: () => readonly UpstreamState[]) {
  const registers = [registry];
  new Gauge({
    name: "gateway_mcp_upstream_up",
    help: "1 while the gateway holds a working connection to the MCP upstream, else 0.",
    labelNames: ["upstream", "transport"] as const,
    registers,
    collect() {
      for (const u of upstreams())
        this.set({ upstream: u.name, transport: u.transport }, u.status === "up" ? 1 : 0);
    },
  });
  new Gauge({
    name: "gateway_mcp_upstream_reconnects",
    help: "Connections to the MCP upstream after the first (stdio: restarts of its process).",
    labelNames: ["upstream"] as const,
    registers,
    collect() {
      for (const u of upstreams()) this.set({ upstream: u.name }, u.reconnects);
    },
  });
  return {
    calls: new Counter({
      name: "gateway_mcp_tool_calls_total",
      help: "Tool calls through /mcp by upstream (`gateway` for its own tools), tool and outcome: ok, tool_error, error, queued, offline.",
      labelNames: ["upstream", "tool", "outcome"] as const,
      registers,
    }),
    callSeconds: new Histogram({
      name: "gateway_mcp_tool_call_duration_seconds",
      help: "Time to answer a tool call through /mcp, by upstream and tool.",
      labelNames: ["upstream", "tool"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    tasks: new Counter({
      name: "gateway_mcp_tasks_total",
      help: "Queued tool calls (tasks) by upstream and outcome: queued, delivered, retry, failed, dead.",
      labelNames: ["upstream", "outcome"] as const,
      registers,
    }),
  };
}

export type McpMetrics = ReturnType<typeof createMcpMetrics>;
