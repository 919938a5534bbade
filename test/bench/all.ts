// `npm run bench`: the proof against a peer, in one run on this machine. One lean mock OpenAI upstream
// (test/bench/mock-upstream.ts) is measured directly, through this gateway (dist/host/cli.js serve,
// models off, its cloud target pointed at the mock) and through Portkey's gateway (@portkey-ai/gateway,
// its provider header pointed at the mock), each server in its own process on 127.0.0.1, with the same
// load generators and settings: maximum throughput, added latency at an evenly paced rate, added SSE
// time to first byte, and resident memory. Then the policy core, queue and local model benchmarks run
// as child processes. Prints tables and one BENCH_JSON line, writes docs/bench/results.json and
// docs/bench/results.md, and exits 0 whether or not a target is met: targets are reported, not asserted.
//
// Flags: --seconds N (each measured load phase, default 10), --rate N (the paced rate, default 500),
// --sse-requests N (default 300), --max-rounds N (max-throughput rounds per side, best kept, default 3),
// --suites core,queue,local (default all; "" for none), --quiet-wait S (first wait up to S seconds
// for other processes to use under 10% of the machine; default 0).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { NODE_FLAGS } from "../../host/runtime.js";
import { listeningAddresses, loopbackOnly } from "./all/listeners.js";
import { markdown } from "./all/markdown.js";
import { portkeyHeaders, startPortkey } from "./all/portkey.js";
import { waitForQuiet } from "./all/quiet.js";
import {
  type BenchResults,
  type Check,
  checkLine,
  fmt,
  peerChecks,
  SIDE_NAMES,
  type SideName,
  type SideSummary,
  suiteChecks,
  summarizeSide,
} from "./all/report.js";
import { measureSides, type Side, type SideSettings, smoke } from "./all/sides.js";
import { runSuite, SUITES, type SuiteRun, suiteCommand } from "./all/suites.js";
import type { Target } from "./http/load.js";
import {
  type Child,
  ensureBuilt,
  gitCommit,
  killChildrenOnExit,
  REPO_ROOT,
  startGateway,
  startMock,
} from "./http/processes.js";

const API_KEY = "bench-key";
const CHAT_PATH = "/v1/chat/completions";
/** Share of the machine taken by other processes above which a run is flagged as noisy. */
const NOISY_PCT = 10;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    rate: { type: "string", default: "500" },
    "max-rounds": { type: "string", default: "3" },
    "quiet-wait": { type: "string", default: "0" },
    "sse-requests": { type: "string", default: "300" },
    suites: { type: "string", default: SUITES.map((s) => s.name).join(",") },
  },
});
const settings: SideSettings = {
  seconds: Number(values.seconds),
  ratePerS: Number(values.rate),
  maxConnections: 50,
  maxRounds: Number(values["max-rounds"]),
  sseRequests: Number(values["sse-requests"]),
  warmupS: 3,
  sseWarmup: 50,
  settleMs: 1000,
  noisyPct: NOISY_PCT,
  noisyRepeats: 6,
  quietWaitS: 30,
};
if (!(settings.seconds > 0 && settings.seconds <= 60)) throw new Error("--seconds expects 1..60");
if (!(settings.maxRounds >= 1 && settings.maxRounds <= 10)) throw new Error("--max-rounds expects 1..10");
const quietWaitS = Number(values["quiet-wait"]);
if (!(quietWaitS >= 0 && quietWaitS <= 3600)) throw new Error("--quiet-wait expects 0..3600 seconds");
if (!(settings.ratePerS > 0 && settings.ratePerS <= 5000)) throw new Error("--rate expects 1..5000");
if (!(settings.sseRequests > 0 && settings.sseRequests <= 5000))
  throw new Error("--sse-requests expects 1..5000");
const suiteNames = values.suites.split(",").filter(Boolean);
for (const name of suiteNames)
  if (!SUITES.some((s) => s.name === name)) throw new Error(`--suites: unknown suite ${name}`);

const log = (text: string) => process.stderr.write(`${text}\n`);
const load = () => loadavg().map((n) => Math.round(n * 100) / 100);

killChildrenOnExit();
const startedMs = performance.now();
const loadAvgAtStart = load();
log(`load average at start (1, 5, 15 min): ${loadAvgAtStart.join(", ")} on ${availableParallelism()} CPUs`);
const quiet = await waitForQuiet(quietWaitS, NOISY_PCT, log);
log(`other processes used ${quiet.busyPct ?? "?"}% of the machine just before the run`);
const build = ensureBuilt();
const dataDir = mkdtempSync(join(tmpdir(), "gw-bench-all-"));
const children: Child[] = [];
let sidesPart: Pick<
  BenchResults,
  "servers" | "sides" | "versusPortkey" | "foreignCpuPct" | "repeated" | "noisy" | "detail"
> & { loadAvgAfterSides: number[] };
try {
  const mock = await startMock();
  children.push(mock.child);
  const gatewayEnv = (dir: string) => ({
    GATEWAY_LOG_LEVEL: "warn",
    GATEWAY_API_KEYS: API_KEY,
    GATEWAY_MODELS__ENABLED: "false",
    GATEWAY_CLOUD_URL: mock.url,
    GATEWAY_CLOUD_API_KEY: "x",
    GATEWAY_DATA_DIR: dir,
    GATEWAY_CORE__LIMITER__TIERS__DEFAULT__REQUESTS_PER_MINUTE: "0",
    GATEWAY_CORE__LIMITER__TIERS__DEFAULT__TOKENS_PER_MINUTE: "0",
    GATEWAY_CLOUD__PROBE_INTERVAL_MS: "600000",
  });
  // As deployed: the node flags npm start, the systemd unit and the container use.
  const gateway = await startGateway({ mode: "dist", env: gatewayEnv(dataDir) });
  children.push(gateway.child);
  const defaultHeap = await startGateway({
    mode: "dist",
    nodeArgs: [],
    env: gatewayEnv(join(dataDir, "default-heap")),
  });
  children.push(defaultHeap.child);
  const portkey = await startPortkey();
  children.push(portkey.child);

  const auth = { authorization: `Bearer ${API_KEY}` };
  const sides: Side[] = [
    {
      target: { name: "direct", origin: new URL(mock.url).origin, path: CHAT_PATH, headers: auth },
      pid: mock.child.process.pid,
    },
    {
      target: { name: "gateway", origin: gateway.origin, path: CHAT_PATH, headers: auth },
      pid: gateway.child.process.pid,
    },
    {
      target: {
        name: "portkey",
        origin: portkey.origin,
        path: CHAT_PATH,
        headers: { ...auth, ...portkeyHeaders(mock.url) },
      },
      pid: portkey.child.process.pid,
    },
    {
      target: { name: "gateway-default-heap", origin: defaultHeap.origin, path: CHAT_PATH, headers: auth },
      pid: defaultHeap.child.process.pid,
    },
  ];
  const routedTo = await smoke(sides[1]?.target as Target);
  for (const side of sides) if (side.target.name !== "gateway") await smoke(side.target);
  const listening: Record<string, { addresses: string[]; loopbackOnly: boolean }> = {};
  for (const side of sides) {
    const addresses = listeningAddresses(side.pid);
    listening[side.target.name] = { addresses, loopbackOnly: loopbackOnly(addresses) };
    log(`${side.target.name.padEnd(8)} pid ${side.pid} listening on ${addresses.join(", ") || "?"}`);
  }
  if (!Object.values(listening).every((l) => l.loopbackOnly)) {
    throw new Error(`a server listens beyond 127.0.0.1: ${JSON.stringify(listening)}`);
  }
  log(`gateway (dist, build ${build}) routes to ${routedTo}; Portkey ${portkey.version} to ${mock.url}`);

  const measured = await measureSides(sides, settings, log);
  const direct = measured.figures.direct;
  if (direct === undefined) throw new Error("no direct figures");
  const summary = (name: string) => summarizeSide(measured.figures[name] as typeof direct, direct);
  const summaries = Object.fromEntries(SIDE_NAMES.map((name) => [name, summary(name)])) as Record<
    SideName,
    SideSummary
  >;
  const versus = peerChecks(summaries.gateway, summaries.portkey, "Portkey");
  const server = (name: string) => listening[name] ?? { addresses: [], loopbackOnly: false };
  const noisiest = Math.max(0, ...Object.values(measured.foreignCpuPct).map((pct) => pct ?? 0));
  sidesPart = {
    servers: {
      direct: { what: "mock upstream (test/bench/mock-upstream.ts)", ...server("direct") },
      gateway: {
        what: `node ${NODE_FLAGS.join(" ")} dist/host/cli.js serve`,
        build,
        routedTo,
        ...server("gateway"),
      },
      "gateway-default-heap": {
        what: "node dist/host/cli.js serve",
        build,
        ...server("gateway-default-heap"),
      },
      portkey: {
        what: `@portkey-ai/gateway ${portkey.version}, build/start-server.js`,
        ...server("portkey"),
      },
    },
    sides: summaries,
    versusPortkey: versus,
    foreignCpuPct: measured.foreignCpuPct,
    repeated: measured.repeated,
    noisy: noisiest > NOISY_PCT,
    loadAvgAfterSides: load(),
    detail: measured.figures,
  };
} finally {
  for (const child of children.reverse()) await child.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const suites: Record<string, SuiteRun & { checks: Check[] }> = {};
for (const spec of SUITES.filter((s) => suiteNames.includes(s.name))) {
  log(`\nsuite ${spec.name}: ${suiteCommand(spec)} (bound ${spec.timeoutS} s)`);
  const run = await runSuite(spec, log);
  suites[spec.name] = { ...run, checks: suiteChecks(run) };
}

const cpu = cpus()[0];
const { loadAvgAfterSides, ...measuredSides } = sidesPart;
const versus = sidesPart.versusPortkey;
const summaries = sidesPart.sides;
const record: BenchResults = {
  bench: "all",
  date: new Date().toISOString(),
  commit: gitCommit("host"),
  machine: {
    cpus: availableParallelism(),
    cpuModel: cpu?.model.trim(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    loadAvgAtStart,
    busyPctBeforeRun: quiet.busyPct,
    loadAvgAfterSides,
    loadAvgAtEnd: load(),
  },
  settings,
  ...measuredSides,
  suites,
  allMet: [...versus.checks, ...Object.values(suites).flatMap((s) => s.checks)].every((c) => c.met),
  runS: Math.round((performance.now() - startedMs) / 100) / 10,
};

const names = SIDE_NAMES;
const row = (label: string, pick: (s: SideSummary) => number | undefined) =>
  `${label.padEnd(40)}${names.map((n) => fmt(pick(summaries[n])).padStart(22)).join("")}`;
console.log(`\nSide by side, one run: ${record.machine.cpus} CPUs, node ${record.machine.node}`);
console.log(`${"".padEnd(40)}${names.map((n) => n.padStart(22)).join("")}`);
console.log(row(`max throughput, ${settings.maxConnections} conns, req/s`, (s) => s.maxReqPerS));
console.log(row(`p50 at ${settings.ratePerS} req/s paced, ms`, (s) => s.pacedP50Ms));
console.log(row("  added over direct, ms", (s) => s.addedP50Ms));
console.log(row(`p99 at ${settings.ratePerS} req/s paced, ms`, (s) => s.pacedP99Ms));
console.log(row("  added over direct, ms", (s) => s.addedP99Ms));
console.log(row("SSE time to first byte, median ms", (s) => s.sseTtfbP50Ms));
console.log(row("  added over direct, ms", (s) => s.sseAddedP50Ms));
console.log(row("RSS idle, MB", (s) => s.idleRssMb));
console.log(row("RSS peak (VmHWM), MB", (s) => s.peakRssMb));
console.log(row("failed requests", (s) => s.failures));
console.log("\nagainst Portkey:");
for (const c of versus.checks) console.log(`  ${checkLine(c)}`);
for (const [name, suite] of Object.entries(suites)) {
  console.log(`\n${name} (${suite.command}, ${suite.durationS} s):`);
  for (const c of suite.checks) console.log(`  ${checkLine(c)}`);
}
console.log(
  `\nload average (1, 5, 15 min): start ${loadAvgAtStart.join(", ")}; end ${record.machine.loadAvgAtEnd.join(", ")}`,
);
const repeats = Object.entries(record.repeated).map(([phase, n]) => `${phase} ${n}x`);
if (repeats.length > 0)
  console.log(`measured again after another process disturbed them: ${repeats.join(", ")}`);
if (record.noisy)
  console.log(`NOISY: other processes used over ${NOISY_PCT}% of the machine in a phase; rerun when quiet`);
console.log(
  `whole run ${record.runS} s; ${record.allMet ? "all targets met" : "MISSED: at least one target (see above)"}`,
);
console.log(`BENCH_JSON ${JSON.stringify(record)}`);
const out = join(REPO_ROOT, "docs/bench/results.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
writeFileSync(join(REPO_ROOT, "docs/bench/results.md"), markdown(record));
log(`wrote ${out} and docs/bench/results.md`);
