/** Turns the measured figures into added values, verdicts per target, a table and the JSON record. */
import type { LoadResult, TtfbResult } from "./load.js";
import { round3 } from "./load.js";

export interface SideResult {
  /** autocannon `overallRate` (the method the targets name). */
  fixedRate: LoadResult;
  /** The same rate sent evenly, open loop. */
  paced: LoadResult;
  max: LoadResult;
  sse: TtfbResult;
}

export interface Verdict {
  name: string;
  value: number;
  limit: number;
  /** "max": value must be at most limit; "min": at least. */
  kind: "max" | "min";
  unit: string;
  met: boolean;
  note?: string;
}

export interface Added {
  fixedRateP50Ms: number;
  fixedRateP90Ms: number;
  fixedRateP99Ms: number;
  pacedP50Ms: number;
  pacedP90Ms: number;
  pacedP99Ms: number;
  sseTtfbMedianMs: number;
  sseTtfbP99Ms: number;
  /** Gateway throughput as a share of direct throughput. */
  maxThroughputRatio: number;
}

export function addedValues(direct: SideResult, gateway: SideResult): Added {
  const diff = (a: number, b: number) => round3(a - b);
  return {
    fixedRateP50Ms: diff(gateway.fixedRate.latency.p50Ms, direct.fixedRate.latency.p50Ms),
    fixedRateP90Ms: diff(gateway.fixedRate.latency.p90Ms, direct.fixedRate.latency.p90Ms),
    fixedRateP99Ms: diff(gateway.fixedRate.latency.p99Ms, direct.fixedRate.latency.p99Ms),
    pacedP50Ms: diff(gateway.paced.latency.p50Ms, direct.paced.latency.p50Ms),
    pacedP90Ms: diff(gateway.paced.latency.p90Ms, direct.paced.latency.p90Ms),
    pacedP99Ms: diff(gateway.paced.latency.p99Ms, direct.paced.latency.p99Ms),
    sseTtfbMedianMs: diff(gateway.sse.latency.p50Ms, direct.sse.latency.p50Ms),
    sseTtfbP99Ms: diff(gateway.sse.latency.p99Ms, direct.sse.latency.p99Ms),
    maxThroughputRatio: round3(gateway.max.okPerS / direct.max.okPerS),
  };
}

function verdict(name: string, value: number, kind: "max" | "min", limit: number, unit: string): Verdict {
  const met = Number.isFinite(value) && (kind === "max" ? value <= limit : value >= limit);
  return { name, value, limit, kind, unit, met };
}

export function verdicts(added: Added, gateway: SideResult): Verdict[] {
  const failures = gateway.max.non2xx + gateway.max.errors;
  const throughput = verdict("max throughput via gateway", gateway.max.okPerS, "min", 8000, "req/s");
  if (failures > 0) {
    throughput.met = false;
    throughput.note = `${failures} non-2xx or failed requests`;
  }
  return [
    verdict("added p50 at 1000 req/s (autocannon)", added.fixedRateP50Ms, "max", 0.5, "ms"),
    verdict("added p99 at 1000 req/s (autocannon)", added.fixedRateP99Ms, "max", 3, "ms"),
    verdict("added p50 at 1000 req/s (even pacing)", added.pacedP50Ms, "max", 0.5, "ms"),
    verdict("added p99 at 1000 req/s (even pacing)", added.pacedP99Ms, "max", 3, "ms"),
    throughput,
    verdict("added SSE time to first byte, median", added.sseTtfbMedianMs, "max", 2, "ms"),
  ];
}

const fmt = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(3));

/** A fixed-width table: the raw figures per side, then the targets. */
export function table(direct: SideResult, gateway: SideResult, results: Verdict[]): string {
  const rows: string[][] = [["measure", "direct", "gateway", "added"]];
  const latencyRows = (label: string, pick: (s: SideResult) => LoadResult | TtfbResult) => {
    for (const q of ["p50Ms", "p90Ms", "p99Ms"] as const) {
      const d = pick(direct).latency[q];
      const g = pick(gateway).latency[q];
      rows.push([`${label} ${q.slice(0, 3)} ms`, fmt(d), fmt(g), fmt(round3(g - d))]);
    }
  };
  latencyRows("1000 req/s autocannon", (s) => s.fixedRate);
  latencyRows("1000 req/s even pacing", (s) => s.paced);
  rows.push(["max throughput req/s (2xx)", fmt(direct.max.okPerS), fmt(gateway.max.okPerS), ""]);
  latencyRows("max throughput", (s) => s.max);
  const failures = (r: LoadResult) => `${r.non2xx} / ${r.errors} / ${r.timeouts}`;
  rows.push(["max non-2xx / errors / timeouts", failures(direct.max), failures(gateway.max), ""]);
  latencyRows("SSE TTFB", (s) => s.sse);
  rows.push([
    "SSE streams ok / failed",
    `${direct.sse.ok} / ${direct.sse.failed}`,
    `${gateway.sse.ok} / ${gateway.sse.failed}`,
    "",
  ]);
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)))
      .join("   ");
  const out = rows.map(line);
  out.splice(1, 0, "-".repeat(out[0]?.length ?? 0));
  out.push("", "targets:");
  for (const v of results) {
    const bound = `${v.kind === "max" ? "<=" : ">="} ${v.limit} ${v.unit}`;
    const mark = v.met ? "met" : "MISSED";
    out.push(
      `  ${mark.padEnd(6)}  ${v.name}: ${fmt(v.value)} ${v.unit} (target ${bound})${v.note ? `; ${v.note}` : ""}`,
    );
  }
  return out.join("\n");
}
