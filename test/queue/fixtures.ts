// Shared set-up for the queue's unit tests: a real SQLite file in a fresh temp directory, a manual
// wall clock, and a second connection to read what is on disk independently of the store.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type QueueLimits, QueueStore } from "../../host/queue/index.js";
import type { EnqueueInput } from "../../host/queue/types.js";

/** A wall clock that only moves when told to. */
export class ManualClock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const ROOMY: QueueLimits = { maxRows: 100_000, maxBytes: 64 * 1024 * 1024 };

export interface QueueDir {
  dir: string;
  dbPath: string;
  open(limits?: QueueLimits, now?: () => number): QueueStore;
  /** Closes every store opened here and deletes the directory. */
  cleanup(): void;
}

export function queueDir(prefix = "gw-queue-"): QueueDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dbPath = join(dir, "queue.db");
  const opened: QueueStore[] = [];
  return {
    dir,
    dbPath,
    open(limits = ROOMY, now) {
      const store = new QueueStore(dbPath, now ? { limits, now } : { limits });
      opened.push(store);
      return store;
    },
    cleanup() {
      for (const store of opened) if (store.db.open) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the file through its own connection: what another process would see. */
export function onDisk<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

export function rowCount(dbPath: string): number {
  return onDisk(
    dbPath,
    (db) => (db.prepare("SELECT count(*) AS n FROM queue_items").get() as { n: number }).n,
  );
}

export const CHAT_BODY = { model: "gpt-test", messages: [{ role: "user", content: "hi" }] };

export function chatInput(overrides: Partial<EnqueueInput> = {}): EnqueueInput {
  return {
    clientId: "client-a",
    kind: "chat",
    target: "cloud/main",
    endpoint: "chat/completions",
    payload: Buffer.from(JSON.stringify(CHAT_BODY)),
    priority: 2,
    ...overrides,
  };
}

/** Enqueues and insists on success: set-up steps should not need to narrow the result. */
export async function mustEnqueue(store: QueueStore, input: EnqueueInput) {
  const result = await store.enqueue(input);
  if (!result.ok) throw new Error(`enqueue refused: ${result.message}`);
  return result.item;
}
