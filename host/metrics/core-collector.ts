import { Counter, Gauge, type Registry } from "prom-client";

/**
 * What the collector reads from the core. Structural, so the metrics do not depend on the WASM
 * wrapper's class and tests can pass a plain object.
 */
export interface CoreMetricsSource {
  stats: {
    /** `{op: {result: count}}`, cumulative since the core was loaded. */
    decisions(): Record<string, Record<string, number>>;
    traps: number;
  };
  memoryBytes(): number;
}

export interface CoreCollectorOptions {
  registry: Registry;
  /** Undefined until the core has loaded; its series are left out until then. */
  getCore: () => CoreMetricsSource | undefined;
}

/**
 * Registers the core's series. Values are read from the core at scrape time instead of being
 * incremented per decision, so the request path pays for plain integer increments inside
 * `CoreStats` and nothing here.
 */
export function registerCoreMetrics({ registry, getCore }: CoreCollectorOptions): void {
  new Counter({
    name: "gateway_core_decisions_total",
    help: "Decisions taken by the WASM policy core, by operation and result.",
    labelNames: ["op", "result"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const core = getCore();
      if (core === undefined) return;
      for (const [op, results] of Object.entries(core.stats.decisions())) {
        for (const [result, count] of Object.entries(results)) this.inc({ op, result }, count);
      }
    },
  });

  new Counter({
    name: "gateway_core_traps_total",
    help: "Traps inside the WASM policy core; each one re-instantiated the module.",
    registers: [registry],
    collect() {
      this.reset();
      const core = getCore();
      // An unlabelled counter always carries a zero sample; remove it so "no core" reads as absent.
      if (core === undefined) this.remove();
      else this.inc(core.stats.traps);
    },
  });

  new Gauge({
    name: "gateway_core_memory_bytes",
    help: "Linear memory of the WASM policy core instance.",
    registers: [registry],
    collect() {
      const core = getCore();
      if (core === undefined) this.remove();
      else this.set(core.memoryBytes());
    },
  });
}
