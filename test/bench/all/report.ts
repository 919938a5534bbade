/**
 * `npm run bench`'s figures: each side's summary, the added cost over direct, the ratios of this
 * gateway to the peer with their targets, and the suites' targets in one shape.
 */
import { round3 } from "../http/load.js";
import type { SideFigures, SideSettings } from "./sides.js";
import type { SuiteRun } from "./suites.js";

export interface SideSummary {
  maxReqPerS: number;
  /** Non-2xx answers, errors and timeouts over every measured phase. */
  failures: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
  /** Over direct at the same paced rate; 0 for direct itself. */
  addedP50Ms: number;
  addedP99Ms: number;
  sseTtfbP50Ms: number;
  sseTtfbP99Ms: number;
  sseAddedP50Ms: number;
  sseAddedP99Ms: number;
  idleRssMb: number | undefined;
  peakRssMb: number | undefined;
  afterLoadRssMb: number | undefined;
}

export interface Check {
  name: string;
  value: number;
  /** How value must compare with limit. */
  bound: ">=" | "<=" | "<";
  limit: number;
  unit: string;
  met: boolean;
  note?: string;
}

export function summarizeSide(side: SideFigures, direct: SideFigures): SideSummary {
  const paced = side.paced.non2xx + side.paced.errors + side.paced.timeouts;
  const max = side.maxRounds.reduce((n, round) => n + round.failures, 0);
  return {
    maxReqPerS: side.max.okPerS,
    failures: paced + max + side.sse.failed,
    pacedP50Ms: side.paced.latency.p50Ms,
    pacedP99Ms: side.paced.latency.p99Ms,
    addedP50Ms: round3(side.paced.latency.p50Ms - direct.paced.latency.p50Ms),
    addedP99Ms: round3(side.paced.latency.p99Ms - direct.paced.latency.p99Ms),
    sseTtfbP50Ms: side.sse.latency.p50Ms,
    sseTtfbP99Ms: side.sse.latency.p99Ms,
    sseAddedP50Ms: round3(side.sse.latency.p50Ms - direct.sse.latency.p50Ms),
    sseAddedP99Ms: round3(side.sse.latency.p99Ms - direct.sse.latency.p99Ms),
    idleRssMb: side.memory.idleMb,
    peakRssMb: side.memory.peakMb,
    afterLoadRssMb: side.memory.afterLoadMb,
  };
}

function check(name: string, value: number, bound: Check["bound"], limit: number, unit: string): Check {
  const met =
    Number.isFinite(value) &&
    (bound === ">=" ? value >= limit : bound === "<=" ? value <= limit : value < limit);
  return { name, value, bound, limit, unit, met };
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? Number.NaN : round3(a / b);

/**
 * The sides of the side-by-side run: the mock itself, this gateway as deployed (with NODE_FLAGS), the
 * peer, and this gateway again under Node's default heap, so the report shows what the flags trade.
 */
export const SIDE_NAMES = ["direct", "gateway", "portkey", "gateway-default-heap"] as const;
export type SideName = (typeof SIDE_NAMES)[number];

/** This gateway against the peer, in the issue's three ratios, plus the ones with no target. */
export function peerChecks(
  gateway: SideSummary,
  peer: SideSummary,
  peerName: string,
): { checks: Check[]; info: Record<string, number> } {
  const throughput = check(
    `max throughput, gateway / ${peerName}`,
    ratio(gateway.maxReqPerS, peer.maxReqPerS),
    ">=",
    5,
    "x",
  );
  const sse = check(
    `SSE time to first byte added over direct (median), gateway / ${peerName}`,
    ratio(gateway.sseAddedP50Ms, peer.sseAddedP50Ms),
    "<=",
    0.1,
    "x",
  );
  const rss = check(
    `peak RSS, gateway / ${peerName}`,
    ratio(gateway.peakRssMb, peer.peakRssMb),
    "<",
    0.5,
    "x",
  );
  // A side that dropped requests has not shown the figure it is credited with.
  if (gateway.failures > 0) {
    for (const c of [throughput, sse]) {
      c.met = false;
      c.note = `${gateway.failures} failed requests through the gateway`;
    }
  }
  if (peer.failures > 0) throughput.note = `${peer.failures} failed requests through ${peerName}`;
  return {
    checks: [throughput, sse, rss],
    info: {
      addedP50Ratio: ratio(gateway.addedP50Ms, peer.addedP50Ms),
      addedP99Ratio: ratio(gateway.addedP99Ms, peer.addedP99Ms),
      idleRssRatio: ratio(gateway.idleRssMb, peer.idleRssMb),
      afterLoadRssRatio: ratio(gateway.afterLoadRssMb, peer.afterLoadRssMb),
    },
  };
}

interface SuiteTarget {
  name: string;
  value: number;
  kind: "min" | "max";
  limit: number;
  unit?: string;
  met: boolean;
}

interface CoreRecord {
  rows: { op: string; impl: string; medianNs: number; p99Ns: number }[];
  memory: { memoryBytes100k: number; clients: number };
}

/** bench:core reports booleans; the rest report {name, value, kind, limit, met}. One shape for all. */
export function suiteChecks(run: SuiteRun): Check[] {
  if (!run.ok || run.record === undefined) {
    const why = run.timedOut ? "timed out" : `exit ${run.exitCode}, no BENCH_JSON`;
    return [
      { name: `${run.name} suite ran`, value: 0, bound: ">=", limit: 1, unit: "", met: false, note: why },
    ];
  }
  if (run.name === "core") {
    const core = run.record as unknown as CoreRecord;
    const median = (op: string) =>
      core.rows.find((r) => r.op === op && r.impl === "wasm")?.medianNs ?? Number.NaN;
    const mib = round3(core.memory.memoryBytes100k / 1048576);
    // The limits bench:core checks (its targetsMet), with the values it checked them against.
    return [
      check("allow, median per call (wasm)", round3(median("allow")), "<=", 50, "ns"),
      check("route over 8 targets, median (wasm)", round3(median("route-8-targets")), "<=", 200, "ns"),
      check(
        `linear memory with ${core.memory.clients.toLocaleString("en-US")} clients`,
        mib,
        "<=",
        16,
        "MiB",
      ),
    ];
  }
  const targets = (run.record.targets ?? []) as SuiteTarget[];
  return targets.map((t) => ({
    name: t.name,
    value: t.value,
    bound: t.kind === "min" ? ">=" : "<=",
    limit: t.limit,
    unit: t.unit ?? "",
    met: t.met,
  }));
}

export const fmt = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value)
    ? "-"
    : Number.isInteger(value)
      ? value.toLocaleString("en-US")
      : value.toFixed(Math.abs(value) >= 100 ? 1 : 3);

export function checkLine(c: Check): string {
  const mark = c.met ? "met" : "MISSED";
  const note = c.note ? `; ${c.note}` : "";
  return `${mark.padEnd(6)}  ${c.name}: ${fmt(c.value)}${c.unit === "x" ? "x" : ` ${c.unit}`} (target ${c.bound} ${c.limit}${c.unit === "x" ? "" : ` ${c.unit}`})${note}`;
}

export interface ServerInfo {
  what: string;
  addresses: string[];
  loopbackOnly: boolean;
  build?: string;
  routedTo?: string;
}

/** docs/bench/results.json: everything one `npm run bench` measured. */
export interface BenchResults {
  bench: "all";
  date: string;
  commit: string | undefined;
  machine: {
    cpus: number;
    cpuModel: string | undefined;
    memoryGiB: number;
    node: string;
    kernel: string;
    /** Percent of the machine other processes used in the few seconds before the run. */
    busyPctBeforeRun: number | undefined;
    /** os.loadavg() (1, 5, 15 minutes). */
    loadAvgAtStart: number[];
    loadAvgAfterSides: number[];
    loadAvgAtEnd: number[];
  };
  settings: SideSettings;
  servers: Record<SideName, ServerInfo>;
  sides: Record<SideName, SideSummary>;
  versusPortkey: { checks: Check[]; info: Record<string, number> };
  /** Percent of the machine other processes took during each side's kept phase. */
  foreignCpuPct: Record<string, number | undefined>;
  /** Phases measured again because other processes disturbed them. */
  repeated: Record<string, number>;
  noisy: boolean;
  suites: Record<string, SuiteRun & { checks: Check[] }>;
  allMet: boolean;
  runS: number;
  /** Every latency percentile and count per side and phase. */
  detail: Record<string, SideFigures>;
}
