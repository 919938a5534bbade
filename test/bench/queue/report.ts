/** The queue bench's verdicts and its printed table. */
import type { DrainResult } from "./drain.js";
import type { HttpEnqueueResult } from "./http-enqueue.js";
import type { StartupResult } from "./startup.js";
import type { EnqueueRate } from "./store-rates.js";

export interface Verdict {
  name: string;
  value: number;
  kind: "min" | "max";
  limit: number;
  unit: string;
  met: boolean;
}

export interface QueueBenchResults {
  rawSerial: EnqueueRate;
  rawGroup: EnqueueRate;
  http: HttpEnqueueResult;
  drains: DrainResult[];
  startup: StartupResult;
}

function verdict(name: string, value: number, kind: "min" | "max", limit: number, unit: string): Verdict {
  const met = Number.isFinite(value) && (kind === "min" ? value >= limit : value < limit);
  return { name, value, kind, limit, unit, met };
}

export function verdicts(r: QueueBenchResults, defaultConcurrency: number): Verdict[] {
  const drain = r.drains.find((d) => d.concurrency === defaultConcurrency) ?? r.drains[0];
  const httpOk = r.http.non2xx + r.http.errors === 0 && r.http.rowsOnDisk >= r.http.acknowledgedTotal;
  return [
    verdict("durable enqueues via HTTP (202)", httpOk ? r.http.acceptedPerS : 0, "min", 5_000, "/s"),
    verdict(
      `drain to mock cloud, concurrency ${drain?.concurrency}`,
      drain?.itemsPerS ?? 0,
      "min",
      1_000,
      "/s",
    ),
    verdict("start-up to first claim, 100k backlog", r.startup.firstClaimMs, "max", 1_000, "ms"),
  ];
}

const n = (value: number) => value.toLocaleString("en-US");

export function table(r: QueueBenchResults, results: Verdict[]): string {
  const rows: [string, string, string][] = [
    [
      "enqueue, raw store, one row per commit",
      `${n(r.rawSerial.rowsPerS)} rows/s`,
      `${r.rawSerial.rowsPerCommit} rows/commit`,
    ],
    [
      `enqueue, raw store, group commit (${r.http.connections} clients)`,
      `${n(r.rawGroup.rowsPerS)} rows/s`,
      `${r.rawGroup.rowsPerCommit} rows/commit, ${(r.rawGroup.rowsPerS / r.rawSerial.rowsPerS).toFixed(1)}x`,
    ],
    [
      `enqueue via HTTP, ${r.http.connections} connections`,
      `${n(r.http.acceptedPerS)} 202/s`,
      `p50 ${r.http.latency.p50Ms} ms, p99 ${r.http.latency.p99Ms} ms; ${n(r.http.acknowledgedTotal)} acked, ${n(r.http.rowsOnDisk)} rows on disk`,
    ],
    ...r.drains.map((d): [string, string, string] => [
      `drain to mock cloud, concurrency ${d.concurrency}`,
      `${n(d.itemsPerS)} items/s`,
      `${n(d.delivered)}/${n(d.items)} in ${d.seconds} s${d.timedOut ? " (bound hit)" : ""}`,
    ]),
    [
      `start-up, ${n(r.startup.backlogRows)} rows, ${r.startup.orphanedLeases} orphaned leases`,
      `${r.startup.firstClaimMs} ms`,
      `open ${r.startup.openMs} ms, reclaim ${r.startup.reclaimMs} ms (${r.startup.reclaimed} items)`,
    ],
    [
      `gateway process to /ready 200 (median of ${r.startup.gateway.runs})`,
      `${n(r.startup.gateway.backlogReadyMs)} ms`,
      `empty data dir ${n(r.startup.gateway.emptyReadyMs)} ms; backlog adds ${r.startup.gateway.addedMs} ms`,
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  let text = rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`).join("\n");
  text += "\n\ntargets:\n";
  text += results
    .map((v) => {
      const op = v.kind === "min" ? ">=" : "<";
      return `  ${v.met ? "met   " : "MISSED"}  ${v.name}: ${n(v.value)} ${v.unit} (${op} ${n(v.limit)} ${v.unit})`;
    })
    .join("\n");
  for (const d of r.drains) {
    text += `\n\nstore time during the drain at concurrency ${d.concurrency} (share of wall time; the store is synchronous):\n`;
    text += Object.entries(d.storeTime)
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(
        ([name, t]) =>
          `  ${name.padEnd(14)} ${(t.shareOfWall * 100).toFixed(1).padStart(5)}%  ${n(t.calls)} calls, ${((t.ms / t.calls) * 1000).toFixed(0)} us each`,
      )
      .join("\n");
  }
  return text;
}
