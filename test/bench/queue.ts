// `npm run bench:queue`: the durable queue in one run (about a minute): acknowledged enqueues per second
// through the gateway's HTTP API with the cloud down, against the raw store's one-row-per-commit and
// group-commit rates measured in the same run; the sync worker's drain rate to the lean mock cloud;
// and start-up time with a 100,000-row backlog. Prints a table and one BENCH_JSON line, writes
// docs/bench/queue.json, and exits 0 whether or not a target is met: targets are reported, not asserted.
//
// Flags: --seconds N (measured HTTP load, default 10), --drain-items N (default 10000), --backlog N
// (default 100000), --gateway tsx|dist (default tsx), --cpu-prof-dir DIR (profile the HTTP phase's
// gateway and print its hot spots). Run the bench itself under node --cpu-prof for the other phases.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { QueueStore, queueConfigSchema } from "../../host/queue/index.js";
import { ensureBuilt, killChildrenOnExit, REPO_ROOT, startMock } from "./http/processes.js";
import { drain } from "./queue/drain.js";
import { httpEnqueue } from "./queue/http-enqueue.js";
import { hotSpots } from "./queue/profile.js";
import { type QueueBenchResults, table, verdicts } from "./queue/report.js";
import { startup } from "./queue/startup.js";
import { enqueueRate } from "./queue/store-rates.js";

const CONNECTIONS = 64;
const RAW_SECONDS = 2;
const WARMUP_S = 2;
const EXTRA_CONCURRENCY = 16;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    "drain-items": { type: "string", default: "10000" },
    backlog: { type: "string", default: "100000" },
    gateway: { type: "string", default: "tsx" },
    "cpu-prof-dir": { type: "string" },
  },
});
const seconds = Number(values.seconds);
const drainItems = Number(values["drain-items"]);
const backlog = Number(values.backlog);
const mode = values.gateway;
if (!(seconds > 0 && seconds <= 60) || !(drainItems > 0 && drainItems <= 200_000) || !(backlog > 0)) {
  throw new Error("--seconds expects 1..60, --drain-items 1..200000, --backlog > 0");
}
if (mode !== "tsx" && mode !== "dist") throw new Error("--gateway expects tsx or dist");
const profileDir = values["cpu-prof-dir"] === undefined ? undefined : resolve(values["cpu-prof-dir"]);

const log = (text: string) => process.stderr.write(`${text}\n`);

killChildrenOnExit();
const startedMs = performance.now();
const build = mode === "dist" ? ensureBuilt() : "not used";
const dir = mkdtempSync(join(tmpdir(), "gw-bench-queue-"));
let mock: Awaited<ReturnType<typeof startMock>> | undefined;
try {
  const defaultConcurrency = queueConfigSchema.parse({}).concurrency;
  log(`raw store: one row per commit, then ${CONNECTIONS} clients, ${RAW_SECONDS} s each`);
  const raw = new QueueStore(join(dir, "raw.db"), { limits: { maxRows: 1e9, maxBytes: 2 ** 40 } });
  const synchronous = raw.db.pragma("synchronous", { simple: true });
  const rawSerial = await enqueueRate(raw, 1, RAW_SECONDS);
  const rawGroup = await enqueueRate(raw, CONNECTIONS, RAW_SECONDS);
  raw.close();

  log(`HTTP enqueue: gateway (${mode}) with the cloud down, ${CONNECTIONS} connections, ${seconds} s`);
  const httpDir = join(dir, "http");
  mkdirSync(httpDir);
  const http = await httpEnqueue({
    dataDir: httpDir,
    mode,
    connections: CONNECTIONS,
    seconds,
    warmupS: WARMUP_S,
    nodeArgs: profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
  });

  mock = await startMock();
  const drains = [];
  for (const concurrency of [defaultConcurrency, EXTRA_CONCURRENCY]) {
    log(`drain: ${drainItems} items, concurrency ${concurrency}`);
    drains.push(await drain({ dir, cloudUrl: mock.url, items: drainItems, concurrency, boundS: 30 }));
  }
  log(`start-up: ${backlog} rows`);
  const started = await startup({ dir, cloudUrl: mock.url, rows: backlog });

  const results: QueueBenchResults = { rawSerial, rawGroup, http, drains, startup: started };
  const checks = verdicts(results, defaultConcurrency);
  const spots = profileDir === undefined ? undefined : hotSpots(profileDir);
  const record = {
    bench: "queue",
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    loadAvg1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    settings: {
      synchronous: synchronous === 2 ? "FULL" : synchronous,
      connections: CONNECTIONS,
      seconds,
      warmupS: WARMUP_S,
      rawSeconds: RAW_SECONDS,
      drainItems,
      backlog,
      defaultConcurrency,
      gateway: { mode, build },
    },
    ...results,
    ...(spots ? { httpGatewayHotSpots: spots } : {}),
    targets: checks,
    allMet: checks.every((v) => v.met),
    runS: Math.round((performance.now() - startedMs) / 100) / 10,
  };
  console.log(
    `\nQueue bench: ${record.cpus} CPUs, node ${record.node}, synchronous=${record.settings.synchronous}\n`,
  );
  console.log(table(results, checks));
  if (spots) {
    console.log("\nHTTP-phase gateway hot spots (self, inclusive):");
    for (const s of spots)
      console.log(
        `  ${(s.selfShare * 100).toFixed(1).padStart(5)}%  ${(s.inclusiveShare * 100).toFixed(1).padStart(5)}%  ${s.fn}`,
      );
  }
  console.log(
    `\nwhole run ${record.runS} s; ${record.allMet ? "all targets met" : "MISSED: at least one target"}`,
  );
  console.log(`BENCH_JSON ${JSON.stringify(record)}`);
  const out = join(REPO_ROOT, "docs/bench/queue.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
  log(`wrote ${out}`);
} finally {
  await mock?.child.stop();
  rmSync(dir, { recursive: true, force: true });
}
