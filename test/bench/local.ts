// `npm run bench:local`: the local model path against node-llama-cpp called directly, in one run, on
// the same model, thread count, prompts and sampling (seeded, end-of-sequence banned so every run
// generates exactly --tokens tokens). Sides, interleaved run by run:
//   direct  node-llama-cpp in this process;
//   runner  the llama-cpp provider over a RunnerSupervisor in a worker process, generation in its child;
//   http    a real gateway (dist/host/cli.js serve, no configuration), when host/main.ts wires the runner.
// Also: runner restart-to-ready after SIGKILL, and resident memory of the gateway-side process and of
// the runner child while a generation runs. Prints a table and one JSON line (prefix BENCH_JSON),
// writes docs/bench/local.json, and exits 0 whether or not a target is met.
//
// Flags: --runs N (default 15), --tokens N (default 384: the tiny model's 512-token context must also hold the prompt), --threads N (default 1), --model PATH,
// --restarts N (default 3), --mode dist|tsx (default dist, rebuilt when stale), --gateway-env K=V
// (repeatable, passed to the HTTP gateway, e.g. its local thread count).

import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureBuilt, gitCommit, killChildrenOnExit, REPO_ROOT } from "./http/processes.js";
import { openDirect } from "./local/direct.js";
import { gatewayWiresRunner, type HttpSide, openHttp } from "./local/http-side.js";
import { median, type RunFigures, round2, type SideSummary, summarise } from "./local/measure.js";
import type { WorkerCommand, WorkerReply } from "./local/runner-worker.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    tokens: { type: "string", default: "384" },
    threads: { type: "string", default: "1" },
    model: { type: "string", default: join(REPO_ROOT, "models/tiny/tiny-demo.gguf") },
    restarts: { type: "string", default: "3" },
    mode: { type: "string", default: "dist" },
    "gateway-env": { type: "string", multiple: true, default: [] },
  },
});
const runs = Number(values.runs);
const tokens = Number(values.tokens);
const threads = Number(values.threads);
const restarts = Number(values.restarts);
const mode = values.mode;
const modelPath = resolve(values.model);
if (!(runs >= 1 && tokens >= 8 && threads >= 1 && restarts >= 0)) {
  throw new Error("--runs >= 1, --tokens >= 8, --threads >= 1, --restarts >= 0");
}
if (mode !== "dist" && mode !== "tsx") throw new Error("--mode expects dist or tsx");
const gatewayEnv = Object.fromEntries(
  values["gateway-env"].map((pair) => {
    const at = pair.indexOf("=");
    if (at < 1) throw new Error(`--gateway-env expects KEY=VALUE, got ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
const CONTEXT_TOKENS = tokens + 256;
const workerRuntime = mode === "dist" ? "plain node, dist" : "tsx, sources";
const WARMUP_RUNS = 2;
const prompt = (i: number) => `Tell me a long story about the sea, part ${i}.`;

/**
 * The runner side's worker file: in dist mode bundled by esbuild (dependencies left as imports) and
 * run by plain node, so its memory is not tsx's; under tsx otherwise.
 */
function workerEntry(): { file: string; execArgv: string[] } {
  const source = join(REPO_ROOT, "test/bench/local/runner-worker.ts");
  if (mode !== "dist") return { file: source, execArgv: ["--import", "tsx"] };
  const file = join(REPO_ROOT, "node_modules/.cache/edge-gateway/bench-runner-worker.mjs");
  const esbuild = createRequire(import.meta.url)("esbuild") as { buildSync(o: object): unknown };
  esbuild.buildSync({
    entryPoints: [source],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile: file,
  });
  return { file, execArgv: [] };
}

/** The runner side's process, driven one command at a time. */
function startWorker(): { call(command: WorkerCommand): Promise<WorkerReply>; process: ChildProcess } {
  const entry = workerEntry();
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  process.once("exit", () => child.kill("SIGKILL"));
  const pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  child.on("message", ({ id, reply }: { id: number; reply: WorkerReply }) => {
    const waiter = pending.get(id);
    pending.delete(id);
    if (reply.type === "error") waiter?.reject(new Error(`runner worker: ${reply.message}`));
    else waiter?.resolve(reply);
  });
  child.on("exit", () => {
    for (const waiter of pending.values()) waiter.reject(new Error("runner worker exited"));
    pending.clear();
  });
  return {
    process: child,
    call: (command) =>
      new Promise((resolveReply, rejectReply) => {
        const id = nextId++;
        pending.set(id, { resolve: resolveReply, reject: rejectReply });
        child.send({ id, command });
      }),
  };
}

async function workerRun(worker: ReturnType<typeof startWorker>, i: number, eosToken: number) {
  const reply = await worker.call({ type: "run", prompt: prompt(i), tokens, seed: i, eosToken });
  if (reply.type !== "run") throw new Error(`unexpected ${reply.type}`);
  return reply;
}

killChildrenOnExit();
const build = mode === "dist" ? ensureBuilt() : "source";
const dataDir = mkdtempSync(join(tmpdir(), "bench-local-"));
const direct = await openDirect(modelPath, threads, CONTEXT_TOKENS);
const worker = startWorker();
let http: HttpSide | undefined;
let httpSkipped: string | undefined;
try {
  const init = await worker.call({
    type: "init",
    modelPath,
    threads,
    contextTokens: CONTEXT_TOKENS,
    hostDir: join(REPO_ROOT, mode === "dist" ? "dist/host" : "host"),
  });
  if (init.type !== "init") throw new Error(`unexpected ${init.type}`);
  if (gatewayWiresRunner()) http = await openHttp(mode, dataDir, gatewayEnv);
  else httpSkipped = "host/main.ts does not create the model runner yet";

  for (let i = 0; i < WARMUP_RUNS; i++) {
    await direct.run(prompt(-1 - i), tokens, 1000 + i);
    await workerRun(worker, -1 - i, direct.eosToken);
    await http?.run(prompt(-1 - i), tokens, 1000 + i, direct.eosToken);
  }
  const results = { direct: [] as RunFigures[], runner: [] as RunFigures[], http: [] as RunFigures[] };
  const childRates: number[] = [];
  const childTtfts: number[] = [];
  let memory: { workerRssMb: number; runnerRssMb: number | undefined } | undefined;
  let httpMemory: ReturnType<HttpSide["memory"]> | undefined;
  for (let i = 0; i < runs; i++) {
    results.direct.push(await direct.run(prompt(i), tokens, i));
    const reply = await workerRun(worker, i, direct.eosToken);
    results.runner.push(reply.figures);
    if (reply.childTokensPerS !== undefined) childRates.push(reply.childTokensPerS);
    if (reply.childTtftMs !== undefined) childTtfts.push(reply.childTtftMs);
    if (http) results.http.push(await http.run(prompt(i), tokens, i, direct.eosToken));
  }
  // Memory "while the runner serves": sampled during extra runs outside the timed ones, since reading
  // another process's /proc status takes its memory lock and can stall it for a moment.
  for (let i = 0; i < 3; i++) {
    const running = workerRun(worker, runs + i, direct.eosToken);
    const sample = await worker.call({ type: "memory" });
    await running;
    if (sample.type === "memory" && (memory === undefined || sample.workerRssMb > memory.workerRssMb)) {
      memory = sample;
    }
    if (http) {
      const httpRun = http.run(prompt(runs + i), tokens, runs + i, direct.eosToken);
      httpMemory = http.memory();
      await httpRun;
    }
  }
  const recoveries: number[] = [];
  for (let i = 0; i < restarts; i++) {
    const reply = await worker.call({ type: "restart" });
    if (reply.type === "restart") recoveries.push(round2(reply.recoveryMs));
  }

  const sides: Record<string, SideSummary> = {
    direct: summarise(results.direct),
    runner: summarise(results.runner),
    ...(http ? { http: summarise(results.http) } : {}),
  };
  const base = sides.direct as SideSummary;
  const compare = (side: SideSummary) => ({
    tokensPerSRatio: round2(side.tokensPerSMedian / base.tokensPerSMedian),
    ttftAddedMs: round2(side.ttftMedianMs - base.ttftMedianMs),
    tokensPerSRatioBest: round2(side.tokensPerSBest / base.tokensPerSBest),
    ttftAddedBestMs: round2(side.ttftBestMs - base.ttftBestMs),
  });
  const versus = Object.fromEntries(
    Object.entries(sides)
      .filter(([name]) => name !== "direct")
      .map(([name, side]) => [name, compare(side)]),
  );
  const gatewayRssMb = httpMemory?.gatewayRssMb ?? memory?.workerRssMb;
  const restartMaxMs = recoveries.length > 0 ? Math.max(...recoveries) : Number.NaN;
  const targets = Object.entries(versus).flatMap(([name, v]) => [
    {
      name: `${name}: tokens/s vs direct`,
      value: v.tokensPerSRatio,
      limit: 0.95,
      kind: "min",
      met: v.tokensPerSRatio >= 0.95,
    },
    {
      name: `${name}: added time to first token`,
      value: v.ttftAddedMs,
      limit: 5,
      kind: "max",
      unit: "ms",
      met: v.ttftAddedMs <= 5,
    },
  ]);
  targets.push(
    {
      name: "runner restart to ready (max)",
      value: restartMaxMs,
      limit: 2000,
      kind: "max",
      unit: "ms",
      met: restartMaxMs < 2000,
    },
    {
      name: http
        ? "gateway process RSS while serving"
        : `gateway-side worker RSS while serving (${workerRuntime})`,
      value: gatewayRssMb ?? Number.NaN,
      limit: 100,
      kind: "max",
      unit: "MB",
      met: (gatewayRssMb ?? Number.POSITIVE_INFINITY) < 100,
    },
  );

  const record = {
    bench: "local",
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: availableParallelism(),
    loadAvg1m: round2(loadavg()[0] ?? 0),
    settings: {
      model: modelPath,
      runs,
      tokens,
      threads,
      contextTokens: CONTEXT_TOKENS,
      mode,
      build,
      warmupRuns: WARMUP_RUNS,
    },
    sides,
    versusDirect: versus,
    // Where the runner side's time goes: what the child itself measured.
    runnerChild: {
      decodeTokensPerSMedian: round2(median(childRates)),
      ttftMedianMs: round2(median(childTtfts)),
    },
    restartToReadyMs: { runs: recoveries, median: round2(median(recoveries)), max: restartMaxMs },
    memoryMb: {
      runnerWorker: memory?.workerRssMb,
      runnerWorkerChild: memory?.runnerRssMb,
      ...(httpMemory ? { gateway: httpMemory.gatewayRssMb, gatewayRunnerChild: httpMemory.runnerRssMb } : {}),
    },
    ...(httpSkipped ? { httpSkipped } : {}),
    targets,
  };

  const signed = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(2)}`;
  const rows = Object.entries(sides).map(([name, s]) => {
    const v = versus[name];
    const cells = [
      name.padEnd(8),
      String(s.tokensPerSMedian).padStart(9),
      (v ? `${v.tokensPerSRatio.toFixed(2)}x` : "-").padStart(6),
      String(s.ttftMedianMs).padStart(8),
      (v ? signed(v.ttftAddedMs) : "-").padStart(7),
      String(s.tokensPerSBest).padStart(9),
      (v ? `${v.tokensPerSRatioBest.toFixed(2)}x` : "-").padStart(6),
      String(s.ttftBestMs).padStart(8),
      (v ? signed(v.ttftAddedBestMs) : "-").padStart(7),
    ];
    return cells.join(" ");
  });
  console.log(`\nlocal model bench: ${runs} runs x ${tokens} tokens, threads ${threads}, ${modelPath}`);
  console.log("         -------------- median --------------  --------------- best ---------------");
  console.log("side       tok/s  ratio  ttft ms   added     tok/s  ratio  ttft ms   added");
  for (const row of rows) console.log(row);
  console.log(`restart to ready (SIGKILL -> model loaded): ${recoveries.join(", ")} ms`);
  console.log(
    `RSS: ${http ? `gateway ${httpMemory?.gatewayRssMb} MB, its runner ${httpMemory?.runnerRssMb} MB; ` : ""}runner worker ${memory?.workerRssMb} MB (${workerRuntime}), its runner ${memory?.runnerRssMb} MB`,
  );
  if (httpSkipped) console.log(`http side skipped: ${httpSkipped}`);
  for (const t of targets)
    console.log(`${t.met ? "MET " : "MISS"} ${t.name}: ${t.value} (${t.kind} ${t.limit})`);
  console.log(`BENCH_JSON ${JSON.stringify(record)}`);
  const out = join(REPO_ROOT, "docs/bench/local.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
} finally {
  await worker.call({ type: "close" }).catch(() => undefined);
  worker.process.kill();
  await http?.stop();
  await direct.close();
  rmSync(dataDir, { recursive: true, force: true });
}
