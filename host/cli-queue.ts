import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseDurationMs } from "./cli-format.js";
import {
  itemDetail,
  itemSummary,
  type QueueStats,
  renderItem,
  renderList,
  renderStats,
} from "./cli-queue-render.js";
import { DEFAULT_DATA_DIR } from "./config/index.js";
import { FINISHED, QUEUE_STATUSES, type QueueStatus, QueueStore } from "./queue/index.js";

export const QUEUE_USAGE = `Usage:
  edge-gateway queue ls [--status S] [--limit N]   newest items first (default 50, at most 10000)
  edge-gateway queue show <id>                     one item with its request and answer
  edge-gateway queue retry <id>...                 send dead or failed items again from attempt 0
  edge-gateway queue retry --all-dead              send every dead item again
  edge-gateway queue purge [--status done,failed,dead,cancelled] [--older-than 7d]
                                                   delete finished items (never queued or in flight)
  edge-gateway queue stats                         counts by status, oldest undelivered item, sizes

Options:
  --data-dir <dir>  the gateway's data directory, holding queue.db   GATEWAY_DATA_DIR (${DEFAULT_DATA_DIR})
  --json            machine-readable output

Safe while the gateway runs (SQLite WAL); it picks up retried items within queue.pollMs.
Statuses: ${QUEUE_STATUSES.join(", ")}. Durations: 30m, 12h, 7d, 2w.
Exit codes: 0 ok, 1 not found (an item or the queue database) or failed, 2 usage.
`;

export interface QueueCliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Wall-clock milliseconds, for ages and --older-than. */
  now?: () => number;
}

class UsageError extends Error {}

const COMMANDS = {
  ls: ["status", "limit"],
  show: [],
  retry: ["all-dead"],
  purge: ["status", "older-than"],
  stats: [],
} as const satisfies Record<string, readonly string[]>;
type Command = keyof typeof COMMANDS;
type Values = { status?: string; limit?: string; "all-dead"?: boolean; "older-than"?: string };

const OPTIONS = {
  "data-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  status: { type: "string" },
  limit: { type: "string" },
  "all-dead": { type: "boolean" },
  "older-than": { type: "string" },
} as const;

const isStatus = (s: string): s is QueueStatus => (QUEUE_STATUSES as readonly string[]).includes(s);

/** `edge-gateway queue …` on `<data dir>/queue.db`; returns the exit code. */
export function runQueue(argv: readonly string[], io: QueueCliIo): number {
  const { stdout, stderr } = io;
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    stdout(QUEUE_USAGE);
    return 0;
  }
  let parsed: {
    values: Values & { "data-dir"?: string; json?: boolean; help?: boolean };
    positionals: string[];
  };
  try {
    if (!Object.hasOwn(COMMANDS, command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    parsed = parseArgs({ args: [...rest], options: OPTIONS, allowPositionals: true, strict: true });
    const allowed: readonly string[] = COMMANDS[command as Command];
    const misplaced = Object.keys(parsed.values).find(
      (k) => !["data-dir", "json", "help"].includes(k) && !allowed.includes(k),
    );
    if (misplaced) throw new UsageError(`queue ${command} does not take --${misplaced}`);
  } catch (error) {
    stderr(`edge-gateway queue: ${(error as Error).message}\n${QUEUE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout(QUEUE_USAGE);
    return 0;
  }
  const dataDir = resolve(values["data-dir"] ?? io.env.GATEWAY_DATA_DIR ?? DEFAULT_DATA_DIR);
  const dbPath = join(dataDir, "queue.db");
  const ctx: Context = {
    out: (data, text) => stdout(values.json ? `${JSON.stringify(data, null, 2)}\n` : text()),
    stderr,
    nowMs: (io.now ?? Date.now)(),
    dbPath,
  };
  let store: QueueStore | undefined;
  try {
    // Check the usage before touching the database, so a typo never opens (or creates) anything.
    const run = prepare(command as Command, values, positionals, ctx);
    if (!existsSync(dbPath)) {
      stderr(`edge-gateway queue: no queue database at ${dbPath}; pass the gateway's --data-dir\n`);
      return 1;
    }
    const unlimited = { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };
    store = new QueueStore(dbPath, { limits: unlimited, now: () => ctx.nowMs });
    return run(store);
  } catch (error) {
    if (error instanceof UsageError) {
      stderr(`edge-gateway queue: ${error.message}\n${QUEUE_USAGE}`);
      return 2;
    }
    stderr(`edge-gateway queue: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    store?.close();
  }
}

interface Context {
  /** JSON with --json, else the text. */
  out(data: unknown, text: () => string): void;
  stderr(text: string): void;
  nowMs: number;
  dbPath: string;
}

type Run = (store: QueueStore) => number;

function prepare(command: Command, values: Values, positionals: string[], ctx: Context): Run {
  const noPositionals = () => {
    if (positionals.length > 0) throw new UsageError(`queue ${command} takes no arguments`);
  };
  switch (command) {
    case "ls": {
      noPositionals();
      const status = values.status;
      if (status !== undefined && !isStatus(status)) throw new UsageError(`unknown status ${status}`);
      const limit = Number(values.limit ?? 50);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        throw new UsageError("--limit takes a whole number from 1 to 10000");
      return (store) => list(store, status ?? null, limit, ctx);
    }
    case "show": {
      if (positionals.length !== 1) throw new UsageError("queue show takes one item id");
      return (store) => show(store, positionals[0] as string, ctx);
    }
    case "retry": {
      if (values["all-dead"] === true) {
        noPositionals();
        return (store) => {
          const retried = store.retryAllDead();
          ctx.out({ retried }, () => `retried ${retried} dead item${retried === 1 ? "" : "s"}\n`);
          return 0;
        };
      }
      if (positionals.length === 0) throw new UsageError("queue retry takes item ids or --all-dead");
      return (store) => retry(store, positionals, ctx);
    }
    case "purge": {
      noPositionals();
      const statuses = (values.status ?? FINISHED.join(",")).split(",").map((s) => s.trim());
      const bad = statuses.filter((s) => !(FINISHED as readonly string[]).includes(s));
      if (bad.length > 0)
        throw new UsageError(
          `purge deletes finished items only (${FINISHED.join(", ")}), not ${bad.join(", ")}`,
        );
      const olderThan = values["older-than"];
      const ageMs = olderThan === undefined ? 0 : parseDurationMs(olderThan);
      if (ageMs === undefined)
        throw new UsageError(`--older-than takes a duration like 7d, not ${olderThan}`);
      return (store) => {
        const beforeMs = ctx.nowMs - ageMs;
        const purged = store.purge(statuses as QueueStatus[], beforeMs);
        const cut = olderThan === undefined ? "" : ` finished before ${new Date(beforeMs).toISOString()}`;
        ctx.out(
          { purged, statuses, finished_before_ms: beforeMs },
          () => `purged ${purged} item${purged === 1 ? "" : "s"} (${statuses.join(", ")})${cut}\n`,
        );
        return 0;
      };
    }
    case "stats":
      noPositionals();
      return (store) => stats(store, ctx);
  }
}

function list(store: QueueStore, status: QueueStatus | null, limit: number, ctx: Context): number {
  const items = store.list(status, limit);
  ctx.out(items.map(itemSummary), () => renderList(items, status, ctx.nowMs));
  return 0;
}

function show(store: QueueStore, id: string, ctx: Context): number {
  const item = store.get(id);
  if (!item) {
    ctx.stderr(`edge-gateway queue: no item ${id}\n`);
    return 1;
  }
  ctx.out(itemDetail(item), () => renderItem(item, ctx.nowMs));
  return 0;
}

function retry(store: QueueStore, ids: readonly string[], ctx: Context): number {
  const retried: string[] = [];
  const notFound: string[] = [];
  const notRetryable: { id: string; status: QueueStatus }[] = [];
  for (const id of new Set(ids)) {
    if (store.retry(id)) retried.push(id);
    else {
      const item = store.get(id);
      if (item) notRetryable.push({ id, status: item.status });
      else notFound.push(id);
    }
  }
  ctx.out({ retried, not_found: notFound, not_retryable: notRetryable }, () =>
    retried.map((id) => `retried ${id}\n`).join(""),
  );
  for (const id of notFound) ctx.stderr(`edge-gateway queue: no item ${id}\n`);
  for (const { id, status } of notRetryable)
    ctx.stderr(`edge-gateway queue: ${id} is ${status}; only dead or failed items can be retried\n`);
  return notFound.length + notRetryable.length > 0 ? 1 : 0;
}

function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function stats(store: QueueStore, ctx: Context): number {
  const { byStatus, oldestActiveAtMs, activeBytes } = store.stats();
  const data: QueueStats = {
    database: ctx.dbPath,
    database_bytes: fileBytes(ctx.dbPath) + fileBytes(`${ctx.dbPath}-wal`),
    by_status: byStatus,
    active_bytes: activeBytes,
    oldest_active_at_ms: oldestActiveAtMs ?? null,
    next_due_at_ms: store.nextDueAtMs() ?? null,
  };
  ctx.out(data, () => renderStats(data, ctx.nowMs));
  return 0;
}
