// `npm run bench:http`: the gateway's cost over a direct call, measured in one run against one local
// mock upstream (test/bench/mock-upstream.ts), each in its own process: added latency at a fixed
// 1,000 req/s, maximum non-streaming throughput, and added SSE time to first byte. Prints a table and
// one JSON line (prefix BENCH_JSON), writes the JSON to docs/bench/http.json, and exits 0 whether or
// not a target is met: the targets are reported, not asserted.
//
// Flags: --seconds N (each measured load phase, default 10), --sse-requests N (default 300),
// --gateway dist|tsx (default dist: node dist/host/cli.js, rebuilt when stale),
// --cpu-prof-dir DIR (run the gateway under node --cpu-prof; the profile is written when it stops).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { request } from "undici";
import { NODE_FLAGS } from "../../host/runtime.js";
import { cpuSnapshot, foreignCpuPct } from "./http/cpu.js";
import { cannon, paced, sseTtfb, type Target } from "./http/load.js";
import { processMemory } from "./http/memory.js";
import {
  ensureBuilt,
  gitCommit,
  killChildrenOnExit,
  REPO_ROOT,
  startGateway,
  startMock,
} from "./http/processes.js";
import { addedValues, type SideResult, table, verdicts } from "./http/report.js";

const API_KEY = "bench-key";
const CHAT_PATH = "/v1/chat/completions";
const RATE_PER_S = 1000;
const RATE_CONNECTIONS = 10;
const MAX_CONNECTIONS = 50;
const WARMUP_S = 3;
const SSE_WARMUP = 50;
/** Quiet time before each measured phase, so one phase's garbage and closing sockets do not spill into the next. */
const SETTLE_MS = 1000;
/** Share of the machine taken by other processes above which a run is flagged as noisy. */
const NOISY_PCT = 10;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    "sse-requests": { type: "string", default: "300" },
    gateway: { type: "string", default: "dist" },
    "cpu-prof-dir": { type: "string" },
  },
});
const seconds = Number(values.seconds);
const sseRequests = Number(values["sse-requests"]);
const mode = values.gateway;
if (!(seconds > 0 && seconds <= 60) || !(sseRequests > 0 && sseRequests <= 10_000)) {
  throw new Error("--seconds expects 1..60 and --sse-requests 1..10000");
}
if (mode !== "dist" && mode !== "tsx") throw new Error("--gateway expects dist or tsx");
const profileDir = values["cpu-prof-dir"] === undefined ? undefined : resolve(values["cpu-prof-dir"]);

/** One request each way before any load: a misconfigured gateway should fail the bench at once. */
async function smoke(target: Target): Promise<string> {
  const res = await request(`${target.origin}${target.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...target.headers },
    body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hello" }] }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200 || !text.includes('"chat.completion"')) {
    throw new Error(`${target.name}: smoke request answered ${res.statusCode}: ${text.slice(0, 500)}`);
  }
  return String(res.headers["x-edge-target"] ?? "-");
}

const log = (text: string) => process.stderr.write(`${text}\n`);

killChildrenOnExit();
const startedMs = performance.now();
const loadAvg1mAtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
const foreign: Record<string, number | undefined> = {};
const build = mode === "dist" ? ensureBuilt() : "not used";
const dataDir = mkdtempSync(join(tmpdir(), "gw-bench-"));
let mock: Awaited<ReturnType<typeof startMock>> | undefined;
let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
let gatewayRssMb: number | undefined;
try {
  mock = await startMock();
  gateway = await startGateway({
    mode,
    nodeArgs: [
      ...NODE_FLAGS,
      ...(profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
    ],
    env: {
      GATEWAY_LOG_LEVEL: "warn",
      GATEWAY_API_KEYS: API_KEY,
      GATEWAY_MODELS__ENABLED: "false",
      GATEWAY_CLOUD_URL: mock.url,
      GATEWAY_CLOUD_API_KEY: "x",
      GATEWAY_DATA_DIR: dataDir,
      GATEWAY_CORE__LIMITER__TIERS__DEFAULT__REQUESTS_PER_MINUTE: "0",
      GATEWAY_CORE__LIMITER__TIERS__DEFAULT__TOKENS_PER_MINUTE: "0",
      GATEWAY_CLOUD__PROBE_INTERVAL_MS: "600000",
    },
  });
  const headers = { authorization: `Bearer ${API_KEY}` };
  const sides: Target[] = [
    { name: "direct", origin: new URL(mock.url).origin, path: CHAT_PATH, headers },
    { name: "gateway", origin: gateway.origin, path: CHAT_PATH, headers },
  ];
  const routedTo = await smoke(sides[1] as Target);
  await smoke(sides[0] as Target);
  log(`mock ${mock.url}, gateway ${gateway.origin} (${mode}, build ${build}) routing to ${routedTo}`);

  for (const side of sides) {
    log(`warm-up ${side.name}: ${WARMUP_S} s at ${MAX_CONNECTIONS} connections, ${SSE_WARMUP} streams`);
    await cannon(side, { connections: MAX_CONNECTIONS, durationS: WARMUP_S });
    await sseTtfb(side, SSE_WARMUP);
  }
  const partial: Record<string, Partial<SideResult>> = { direct: {}, gateway: {} };
  const pids = [mock.child.process.pid, gateway.child.process.pid];
  const each = async (phase: string, label: string, run: (side: Target) => Promise<void>) => {
    for (const side of sides) {
      log(`${label} ${side.name}`);
      await sleep(SETTLE_MS);
      const before = cpuSnapshot(pids);
      await run(side);
      foreign[`${phase} ${side.name}`] = foreignCpuPct(before, cpuSnapshot(pids));
    }
  };
  const at = (side: Target) => partial[side.name] as Partial<SideResult>;
  const rate = { connections: RATE_CONNECTIONS, durationS: seconds };
  await each("fixedRate", `${RATE_PER_S} req/s autocannon, ${seconds} s`, async (side) => {
    at(side).fixedRate = await cannon(side, { ...rate, overallRate: RATE_PER_S });
  });
  await each("paced", `${RATE_PER_S} req/s even pacing, ${seconds} s`, async (side) => {
    at(side).paced = await paced(side, { ...rate, ratePerS: RATE_PER_S });
  });
  await each("max", `max throughput, ${MAX_CONNECTIONS} connections, ${seconds} s`, async (side) => {
    at(side).max = await cannon(side, { connections: MAX_CONNECTIONS, durationS: seconds });
  });
  gatewayRssMb = processMemory(gateway.child.process.pid)?.peakRssMb;
  await each("sse", `SSE time to first byte, ${sseRequests} sequential streams`, async (side) => {
    at(side).sse = await sseTtfb(side, sseRequests);
  });
  const noisiest = Math.max(0, ...Object.values(foreign).map((pct) => pct ?? 0));

  const direct = partial.direct as SideResult;
  const through = partial.gateway as SideResult;
  const added = addedValues(direct, through);
  const results = verdicts(added, through);
  const record = {
    bench: "http",
    date: new Date().toISOString(),
    commit: gitCommit("host"),
    node: process.version,
    cpus: availableParallelism(),
    loadAvg1mAtStart,
    /** Percent of the machine other processes used during each phase; above ~10% the figures are suspect. */
    foreignCpuPct: foreign,
    gatewayProcess: { mode, build, routedTo, peakRssMb: gatewayRssMb },
    settings: {
      seconds,
      ratePerS: RATE_PER_S,
      rateConnections: RATE_CONNECTIONS,
      maxConnections: MAX_CONNECTIONS,
      sseRequests,
      warmupS: WARMUP_S,
      settleMs: SETTLE_MS,
    },
    direct,
    gateway: through,
    added,
    targets: results,
    allMet: results.every((v) => v.met),
    noisy: noisiest > NOISY_PCT,
    runS: Math.round((performance.now() - startedMs) / 100) / 10,
  };
  console.log(
    `\nHTTP bench: direct vs gateway (${mode}), same mock upstream, ${record.cpus} CPUs, node ${record.node}\n`,
  );
  console.log(table(direct, through, results));
  console.log(`\npeak gateway RSS ${gatewayRssMb ?? "?"} MB; whole run ${record.runS} s`);
  const shares = Object.entries(foreign).map(([phase, pct]) => `${phase} ${pct ?? "?"}%`);
  console.log(`other processes' CPU, % of the machine: ${shares.join(", ")}`);
  if (noisiest > NOISY_PCT) {
    console.log(
      `NOISY: other processes used up to ${noisiest}% of the machine during a phase; rerun when it is quiet`,
    );
  }
  console.log(results.every((v) => v.met) ? "all targets met" : "MISSED: at least one target (see above)");
  console.log(`BENCH_JSON ${JSON.stringify(record)}`);
  const out = join(REPO_ROOT, "docs/bench/http.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
  log(`wrote ${out}`);
} finally {
  await gateway?.child.stop(profileDir === undefined ? 5_000 : 30_000);
  await mock?.child.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
