/**
 * The raw store without HTTP, as the baseline for the gateway's enqueue rate: one row per commit (each
 * enqueue awaited before the next, so every row pays its own fsync) against the group commit (as many
 * clients in a closed loop as the HTTP phase has connections, so concurrent rows share commits).
 */
import { performance } from "node:perf_hooks";
import type { EnqueueInput, QueueStore } from "../../../host/queue/index.js";

export const BENCH_TARGET = "cloud/cloud";
export const CHAT_BODY = {
  model: "auto",
  messages: [{ role: "user", content: "Say hello in one short sentence." }],
};
const PAYLOAD = Buffer.from(JSON.stringify({ ...CHAT_BODY, model: "gpt-4o-mini" }));

export function benchInput(clientId = "bench"): EnqueueInput {
  return {
    clientId,
    kind: "chat",
    target: BENCH_TARGET,
    endpoint: "chat/completions",
    payload: PAYLOAD,
    priority: 2,
  };
}

export interface EnqueueRate {
  rows: number;
  seconds: number;
  rowsPerS: number;
  commits: number;
  rowsPerCommit: number;
}

/** Counts the store's write transactions: each group commit opens exactly one. */
function countCommits(store: QueueStore): { count(): number; restore(): void } {
  const db = store.db;
  const original = db.transaction;
  let commits = 0;
  db.transaction = ((fn: Parameters<typeof original>[0]) => {
    commits++;
    return original.call(db, fn);
  }) as typeof original;
  return {
    count: () => commits,
    restore: () => {
      db.transaction = original;
    },
  };
}

/** `clients` closed loops of awaited enqueues for `seconds`; 1 client = one row per commit. */
export async function enqueueRate(store: QueueStore, clients: number, seconds: number): Promise<EnqueueRate> {
  const commits = countCommits(store);
  const startMs = performance.now();
  const endMs = startMs + seconds * 1000;
  let rows = 0;
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < endMs) {
          const result = await store.enqueue(benchInput());
          if (!result.ok) throw new Error(`bench enqueue refused: ${result.message}`);
          rows++;
        }
      }),
    );
  } finally {
    commits.restore();
  }
  const elapsedS = (performance.now() - startMs) / 1000;
  return {
    rows,
    seconds: round(elapsedS, 3),
    rowsPerS: Math.round(rows / elapsedS),
    commits: commits.count(),
    rowsPerCommit: round(rows / commits.count(), 1),
  };
}

/** Writes `rows` queued items in group commits of `batch`, as a burst of clients would. */
export async function fillBacklog(store: QueueStore, rows: number, batch = 2_000): Promise<void> {
  for (let written = 0; written < rows; written += batch) {
    const n = Math.min(batch, rows - written);
    const results = await Promise.all(Array.from({ length: n }, () => store.enqueue(benchInput())));
    if (results.some((r) => !r.ok)) throw new Error("bench backlog: the queue refused an item");
  }
}

export const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
