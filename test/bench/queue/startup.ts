/**
 * Start-up with a backlog: the queue file holds `rows` queued items plus some in flight under the
 * lease of a process that died. Measured twice:
 *  - in-process, the queue's own share: open the store (migrations, usage counters), start the worker
 *    (reclaiming the dead process's leases), until its first claim;
 *  - a whole gateway process until /ready answers 200, against the same with an empty data directory,
 *    so the difference is what the backlog costs (node and tsx start-up are in both).
 * The file was just written, so the OS page cache is warm in both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { request } from "undici";
import { QueueStore } from "../../../host/queue/index.js";
import { REPO_ROOT } from "../http/processes.js";
import { fillBacklog, round } from "./store-rates.js";
import { benchWorker } from "./worker-setup.js";

const LIMITS = { maxRows: 10_000_000, maxBytes: 2 ** 40 };
const ORPHANED = 64;
const GATEWAY_RUNS = 3;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export interface StartupResult {
  backlogRows: number;
  orphanedLeases: number;
  /** new QueueStore(): open, pragmas, migrations check, usage counters. */
  openMs: number;
  /** worker.start(): reclaiming the dead process's leases. */
  reclaimMs: number;
  reclaimed: number;
  /** From before the open to the worker's first claimed item. */
  firstClaimMs: number;
  /** Medians of GATEWAY_RUNS starts each. */
  gateway: { runs: number; emptyReadyMs: number; backlogReadyMs: number; addedMs: number };
}

/** Writes the backlog once; returns the data directory holding it as queue.db. */
export async function buildBacklog(dir: string, rows: number): Promise<string> {
  const dataDir = join(dir, "backlog");
  mkdirSync(dataDir, { recursive: true });
  const store = new QueueStore(join(dataDir, "queue.db"), { limits: LIMITS });
  try {
    await fillBacklog(store, rows);
    // Leased to an owner that will never come back, as after a crash mid-delivery.
    store.claimDue("w_crashed", ORPHANED, 10 * 60_000);
  } finally {
    store.close();
  }
  return dataDir;
}

async function inProcess(dataDir: string, cloudUrl: string) {
  const t0 = performance.now();
  const store = new QueueStore(join(dataDir, "queue.db"), { limits: LIMITS });
  const t1 = performance.now();
  const setup = benchWorker(store, cloudUrl);
  let reclaimed = 0;
  const reclaim = store.reclaimLeases.bind(store);
  store.reclaimLeases = (owner) => {
    const n = reclaim(owner);
    reclaimed += n;
    return n;
  };
  const claim = store.claimDue.bind(store);
  const firstClaim = new Promise<number>((resolve) => {
    store.claimDue = (owner, limit, leaseMs) => {
      const items = claim(owner, limit, leaseMs);
      if (items.length > 0) resolve(performance.now());
      return items;
    };
  });
  const t2 = performance.now();
  setup.worker.start();
  const t3 = performance.now();
  const t4 = await firstClaim;
  await setup.close();
  store.close();
  // Building the core and targets (t1..t2) happens before the queue opens in a gateway too.
  return { openMs: t1 - t0, reclaimMs: t3 - t2, firstClaimMs: t4 - t0 - (t2 - t1), reclaimed };
}

/** Spawns the gateway and resolves with the ms until /ready answered 200; then stops it. */
async function gatewayReadyMs(dataDir: string, cloudUrl: string): Promise<number> {
  const startMs = performance.now();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GATEWAY_")) env[k] = v;
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "host/cli.ts", "serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "info"],
    {
      cwd: REPO_ROOT,
      env: { ...env, GATEWAY_DATA_DIR: dataDir, GATEWAY_CLOUD_URL: cloudUrl, GATEWAY_CLOUD_API_KEY: "bench" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = once(child, "exit");
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the gateway did not listen within 30 s")), 30_000);
      child.once("exit", (code) => reject(new Error(`the gateway exited (${code}) before listening`)));
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
        let msg: { msg?: string; url?: string } = {};
        try {
          msg = JSON.parse(line);
        } catch {
          // Not a log line.
        }
        if (msg.msg === "listening" && msg.url) {
          clearTimeout(timer);
          resolve(msg.url);
        }
      });
    });
    const res = await request(`${url}/ready`);
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`/ready answered ${res.statusCode}: ${body}`);
    return performance.now() - startMs;
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

export async function startup(options: {
  dir: string;
  cloudUrl: string;
  rows: number;
}): Promise<StartupResult> {
  const dataDir = await buildBacklog(options.dir, options.rows);
  const measured = await inProcess(dataDir, options.cloudUrl);
  const emptyDir = join(options.dir, "empty");
  const empty: number[] = [];
  const withBacklog: number[] = [];
  // Alternating runs, medians: one process start varies by a few hundred ms on a busy machine.
  for (let run = 0; run < GATEWAY_RUNS; run++) {
    empty.push(await gatewayReadyMs(emptyDir, options.cloudUrl));
    // Earlier runs reclaimed the orphaned leases; orphan some again so each start meets a crash.
    const again = new QueueStore(join(dataDir, "queue.db"), { limits: LIMITS });
    again.reclaimLeases("w_crashed");
    again.claimDue("w_crashed", ORPHANED, 10 * 60_000);
    again.close();
    withBacklog.push(await gatewayReadyMs(dataDir, options.cloudUrl));
  }
  const emptyReadyMs = median(empty);
  const backlogReadyMs = median(withBacklog);
  return {
    backlogRows: options.rows,
    orphanedLeases: ORPHANED,
    openMs: round(measured.openMs, 1),
    reclaimMs: round(measured.reclaimMs, 1),
    reclaimed: measured.reclaimed,
    firstClaimMs: round(measured.firstClaimMs, 1),
    gateway: {
      runs: GATEWAY_RUNS,
      emptyReadyMs: Math.round(emptyReadyMs),
      backlogReadyMs: Math.round(backlogReadyMs),
      addedMs: Math.round(backlogReadyMs - emptyReadyMs),
    },
  };
}
