import { describe, expect, it } from "vitest";
import { type CoreMetricsSource, createMetrics } from "../../host/metrics/index.js";

function fakeCore(): CoreMetricsSource & { stats: { traps: number } } {
  return {
    stats: {
      traps: 2,
      decisions: () => ({ allow: { allow: 5, deny_requests: 1 }, route: { local: 3 } }),
    },
    memoryBytes: () => 65_536,
  };
}

/** Sample lines only: "# HELP" and "# TYPE" lines are printed for every registered metric. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
}

describe("createMetrics", () => {
  it("reports process metrics under their standard names", async () => {
    const text = await createMetrics().registry.metrics();
    expect(samples(text, "process_resident_memory_bytes")).toHaveLength(1);
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("leaves the core series out while the core is not loaded", async () => {
    const text = await createMetrics({ getCore: () => undefined }).registry.metrics();
    expect(samples(text, "gateway_core_decisions_total")).toEqual([]);
    expect(samples(text, "gateway_core_traps_total")).toEqual([]);
    expect(samples(text, "gateway_core_memory_bytes")).toEqual([]);
    expect(samples(text, "gateway_ready")).toEqual(["gateway_ready 0"]);
  });

  it("reads decisions, traps and memory from the core at scrape time", async () => {
    const core = fakeCore();
    const { registry } = createMetrics({ getCore: () => core, isReady: () => true });
    const first = await registry.metrics();
    expect(samples(first, "gateway_core_decisions_total")).toEqual([
      'gateway_core_decisions_total{op="allow",result="allow"} 5',
      'gateway_core_decisions_total{op="allow",result="deny_requests"} 1',
      'gateway_core_decisions_total{op="route",result="local"} 3',
    ]);
    expect(samples(first, "gateway_core_traps_total")).toEqual(["gateway_core_traps_total 2"]);
    expect(samples(first, "gateway_core_memory_bytes")).toEqual(["gateway_core_memory_bytes 65536"]);
    expect(samples(first, "gateway_ready")).toEqual(["gateway_ready 1"]);

    core.stats.traps = 3;
    const second = await registry.metrics();
    // Values are the core's totals, not totals added up across scrapes.
    expect(samples(second, "gateway_core_traps_total")).toEqual(["gateway_core_traps_total 3"]);
    expect(samples(second, "gateway_core_decisions_total")).toHaveLength(3);
  });

  it("keeps each gateway's registry apart from the others and from the global one", async () => {
    const a = createMetrics({ isReady: () => true });
    const b = createMetrics({ isReady: () => false });
    expect(samples(await a.registry.metrics(), "gateway_ready")).toEqual(["gateway_ready 1"]);
    expect(samples(await b.registry.metrics(), "gateway_ready")).toEqual(["gateway_ready 0"]);
  });
});
