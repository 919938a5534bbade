// `npm run bench:core`: nanoseconds per call through the real WASM boundary (the host's Core class),
// beside the TypeScript reference model measured in the same run, plus the module's memory with
// 100,000 distinct clients. Prints a table and one JSON line (prefix BENCH_JSON) for machines.

import { readFileSync } from "node:fs";
import { instantiateSync } from "@assemblyscript/loader";
import {
  Core,
  coreConfigSchema,
  defaultWasmPath,
  Outcome,
  RouteFlag,
  TargetKind,
  Ticket,
} from "../../host/core/index.js";
import { type CoreSurface, createReference } from "../core/reference/index.js";

const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CALLS = Number(process.env.BENCH_CALLS ?? 2_000);
const CLIENTS = 1_000;

interface Row {
  op: string;
  impl: string;
  medianNs: number;
  p99Ns: number;
}

function measure(op: string, impl: string, call: (i: number) => void): Row {
  for (let i = 0; i < CALLS * 20; i++) call(i); // warm up the JIT
  const perCall: number[] = [];
  let n = 0;
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) call(n++);
    perCall.push(Number(process.hrtime.bigint() - t0) / CALLS);
  }
  perCall.sort((a, b) => a - b);
  const at = (q: number) => perCall[Math.min(perCall.length - 1, Math.floor(q * perCall.length))] as number;
  return { op, impl, medianNs: at(0.5), p99Ns: at(0.99) };
}

const config = coreConfigSchema.parse({
  limiter: { capacity: 100_000, tiers: { default: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } } },
  seed: 1,
});
const targets = Array.from({ length: 8 }, (_, i) => ({
  kind: i < 4 ? TargetKind.Local : TargetKind.Cloud,
  contextTokens: 8192 * (1 + (i % 3)),
  capabilities: 3,
  taskMask: 1 << (i % 5),
  memoryMb: 500 + 100 * i,
  maxInflight: 4,
  loaded: i % 2 === 0,
}));
const lo = Uint32Array.from({ length: CLIENTS }, (_, i) => Math.imul(i + 1, 2654435761) >>> 0);
const hi = Uint32Array.from({ length: CLIENTS }, (_, i) => i);

const core = Core.load(config);
core.configureTargets(targets);
for (let t = 0; t < 8; t++) {
  for (let k = 0; k < 20; k++)
    core.targetEnd(t, Ticket.Normal, k % 7 === 0 ? Outcome.Error : Outcome.Ok, 50 + t * 10, k);
}

// The reference, configured the same way through the same numeric surface.
const ref: CoreSurface = createReference();
ref.limiterTier(0, 1e9, 1e9, 1e12, 1e12);
ref.limiterInit(100_000, config.limiter.idleMs);
ref.targetsInit(8);
targets.forEach((t, i) => {
  ref.targetConfigure(i, t.kind, t.contextTokens, t.capabilities, t.taskMask, t.memoryMb, t.maxInflight);
  ref.targetSetLoaded(i, t.loaded ? 1 : 0);
});
ref.seed(1, 0);

const flags = RouteFlag.AllowCloud | RouteFlag.AllowQueue;
const request = { promptTokens: 300, maxTokens: 200, taskClass: 1, priority: 1, flags, capabilities: 1 };
const rows: Row[] = [];
// The loader's demangled exports, to show what calling through its wrappers would cost.
const loaderWrapped = instantiateSync(readFileSync(defaultWasmPath())).exports as unknown as {
  limiterTier: (...a: number[]) => number;
  limiterInit: (...a: number[]) => number;
  allow: (...a: number[]) => number;
};
loaderWrapped.limiterTier(0, 1e9, 1e9, 1e12, 1e12);
loaderWrapped.limiterInit(100_000, 600_000);

let now = 1_000;
/** Monotonic time that moves on a little with every call, as the host's clock would. */
const tick = (): number => {
  now += 0.01;
  return now;
};
rows.push(
  measure("allow", "wasm", (i) =>
    core.allow(lo[i % CLIENTS] as number, hi[i % CLIENTS] as number, 0, 100, tick()),
  ),
);
rows.push(
  measure("allow", "wasm-loader-wrapper", (i) =>
    loaderWrapped.allow(lo[i % CLIENTS] as number, hi[i % CLIENTS] as number, 0, 100, tick()),
  ),
);
rows.push(
  measure("allow", "reference", (i) =>
    ref.allow(lo[i % CLIENTS] as number, hi[i % CLIENTS] as number, 0, 100, tick()),
  ),
);
rows.push(measure("route-8-targets", "wasm", () => core.routePacked(request, tick())));
rows.push(measure("route-8-targets", "wasm-with-result-object", () => core.route(request, tick())));
rows.push(measure("route-8-targets", "reference", () => ref.route(300, 200, 1, 1, flags, 1, tick())));
rows.push(
  measure("record-outcome", "wasm", (i) =>
    core.targetEnd(i & 7, Ticket.Normal, i % 11 === 0 ? Outcome.Error : Outcome.Ok, 80, tick()),
  ),
);
rows.push(
  measure("record-outcome", "reference", (i) =>
    ref.targetEnd(i & 7, Ticket.Normal, i % 11 === 0 ? 1 : 0, 80, tick()),
  ),
);
rows.push(measure("next-delay", "wasm", (i) => core.retryDelayMs(1 + (i & 7), 0)));
rows.push(measure("next-delay", "reference", (i) => ref.retryDelayMs(1 + (i & 7), 0)));

// Memory: a fresh core sized for 100,000 clients, filled with 100,000 distinct ones.
const big = Core.load(config);
const before = big.memoryBytes();
for (let i = 0; i < 100_000; i++) big.allow(Math.imul(i + 7, 2246822519) >>> 0, i, 0, 1, i);
const memory = { clients: big.clients(), memoryBytesEmpty: before, memoryBytes100k: big.memoryBytes() };

const median = (op: string, impl = "wasm") =>
  rows.find((r) => r.op === op && r.impl === impl)?.medianNs ?? Number.NaN;
const targetsMet = {
  allowMedianAtMost50ns: median("allow") <= 50,
  routeMedianAtMost200ns: median("route-8-targets") <= 200,
  memory100kAtMost16MiB: memory.memoryBytes100k <= 16 * 1024 * 1024,
};

console.log(`core benchmark: ${BATCHES} batches x ${CALLS} calls, node ${process.version}, ${process.arch}`);
console.log("op               impl                      median ns   p99 ns");
for (const r of rows) {
  console.log(
    `${r.op.padEnd(16)} ${r.impl.padEnd(24)} ${r.medianNs.toFixed(1).padStart(10)} ${r.p99Ns.toFixed(1).padStart(8)}`,
  );
}
console.log(
  `memory: ${(memory.memoryBytes100k / 1048576).toFixed(2)} MiB linear memory with ${memory.clients} clients (empty table: ${(memory.memoryBytesEmpty / 1048576).toFixed(2)} MiB)`,
);
console.log(`targets: ${JSON.stringify(targetsMet)}`);
console.log(
  `BENCH_JSON ${JSON.stringify({ bench: "core", batches: BATCHES, calls: CALLS, rows, memory, targetsMet })}`,
);
