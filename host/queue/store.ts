import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import Database from "better-sqlite3";
import { migrate } from "./migrations.js";
import type { EnqueueInput, EnqueueResult, QueueItem, QueueStatus, UpstreamResult } from "./types.js";

// All SQL of the queue lives in this module; the worker and the routes call its methods.

export interface QueueLimits {
  /** Items not yet finished (queued or in flight). */
  maxRows: number;
  /** Payload bytes of unfinished items. */
  maxBytes: number;
}

export interface QueueStoreOptions {
  limits: QueueLimits;
  /** Wall-clock milliseconds: stored times must survive a restart, unlike monotonic ones. */
  now?: () => number;
}

type Row = Record<string, unknown>;

function toItem(r: Row): QueueItem {
  return {
    id: r.id as string,
    clientId: r.client_id as string,
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    kind: r.kind as QueueItem["kind"],
    target: r.target as string,
    endpoint: r.endpoint as string,
    payload: r.payload as Buffer,
    priority: r.priority as number,
    status: r.status as QueueStatus,
    attempts: r.attempts as number,
    nextAttemptAtMs: r.next_attempt_at_ms as number,
    leaseOwner: (r.lease_owner as string | null) ?? null,
    leaseExpiresAtMs: (r.lease_expires_at_ms as number | null) ?? null,
    resultStatus: (r.result_status as number | null) ?? null,
    resultContentType: (r.result_content_type as string | null) ?? null,
    resultBody: (r.result_body as Buffer | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAtMs: r.created_at_ms as number,
    updatedAtMs: r.updated_at_ms as number,
    finishedAtMs: (r.finished_at_ms as number | null) ?? null,
  };
}

/**
 * The STRICT schema stores whole milliseconds and refuses a fraction, which the core's jittered
 * retry delay has; rounding up keeps a retry never earlier than asked (Retry-After).
 */
function wholeMs(ms: number): number {
  return Math.ceil(ms);
}

/**
 * Which worker claims an item: the sync worker delivers LLM requests to the cloud, the MCP task
 * worker delivers tool calls to MCP upstreams. Each has its own link to wait for.
 */
export type QueueLane = "llm" | "mcp";

/** One index seek per priority (requests carry 0..3) instead of a scan of every queued row. */
function nextDueSql(laneFilter: string): string {
  const perPriority = [0, 1, 2, 3].map(
    (p) =>
      `SELECT (SELECT next_attempt_at_ms FROM queue_items WHERE status = 'queued' AND priority = ${p}
        AND ${laneFilter} ORDER BY next_attempt_at_ms LIMIT 1) AS t`,
  );
  return `SELECT min(t) AS t FROM (${perPriority.join(" UNION ALL ")})`;
}

/** An id nobody can guess or enumerate: 128 random bits. */
export function newItemId(): string {
  return `q_${randomBytes(16).toString("base64url")}`;
}

interface Pending {
  input: EnqueueInput;
  resolve: (r: EnqueueResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The durable queue on one SQLite file (WAL, synchronous=FULL: a commit is on disk when it
 * returns). Enqueues that arrive together are written in one transaction, one fsync for all, and
 * each caller is answered only after that commit.
 */
export class QueueStore extends EventEmitter<{ changed: [id: string, status: QueueStatus]; enqueued: [] }> {
  readonly db: Database.Database;
  private readonly now: () => number;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private activeRows = 0;
  private activeBytes = 0;
  private readonly sql;

  constructor(
    path: string,
    private readonly options: QueueStoreOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.now = options.now ?? Date.now;
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    try {
      migrate(this.db);
    } catch (error) {
      // A refused file (e.g. from a newer gateway) must not stay open behind the error.
      this.db.close();
      throw error;
    }
    const db = this.db;
    this.sql = {
      insert: db.prepare(`
        INSERT INTO queue_items (id, client_id, idempotency_key, kind, target, endpoint, payload, payload_bytes,
          priority, status, attempts, next_attempt_at_ms, created_at_ms, updated_at_ms)
        VALUES (@id, @clientId, @idempotencyKey, @kind, @target, @endpoint, @payload, @bytes,
          @priority, 'queued', 0, @now, @now, @now)
        ON CONFLICT (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`),
      byKey: db.prepare("SELECT * FROM queue_items WHERE client_id = ? AND idempotency_key = ?"),
      byId: db.prepare("SELECT * FROM queue_items WHERE id = ?"),
      active: db.prepare(
        "SELECT count(*) AS n, coalesce(sum(payload_bytes), 0) AS bytes FROM queue_items WHERE status IN ('queued', 'inflight')",
      ),
      due: {
        llm: db.prepare(`
          SELECT id FROM queue_items WHERE status = 'queued' AND next_attempt_at_ms <= ? AND kind != 'mcp_tool_call'
          ORDER BY priority DESC, next_attempt_at_ms, created_at_ms LIMIT ?`),
        mcp: db.prepare(`
          SELECT id FROM queue_items WHERE status = 'queued' AND next_attempt_at_ms <= ? AND kind = 'mcp_tool_call'
          ORDER BY priority DESC, next_attempt_at_ms, created_at_ms LIMIT ?`),
      },
      lease: db.prepare(`
        UPDATE queue_items SET status = 'inflight', lease_owner = ?, lease_expires_at_ms = ?, attempts = attempts + 1,
          updated_at_ms = ? WHERE id = ? AND status = 'queued' RETURNING *`),
      finish: db.prepare(`
        UPDATE queue_items SET status = @status, result_status = @resultStatus, result_content_type = @contentType,
          result_body = @body, last_error = @error, lease_owner = NULL, lease_expires_at_ms = NULL,
          updated_at_ms = @now, finished_at_ms = @now
        WHERE id = @id AND status = 'inflight' AND lease_owner = @owner`),
      reschedule: db.prepare(`
        UPDATE queue_items SET status = 'queued', next_attempt_at_ms = @next, last_error = @error,
          lease_owner = NULL, lease_expires_at_ms = NULL, updated_at_ms = @now
        WHERE id = @id AND status = 'inflight' AND lease_owner = @owner`),
      release: db.prepare(`
        UPDATE queue_items SET status = 'queued', attempts = max(attempts - 1, 0), next_attempt_at_ms = @next,
          lease_owner = NULL, lease_expires_at_ms = NULL, updated_at_ms = @now
        WHERE id = @id AND status = 'inflight' AND lease_owner = @owner`),
      cancel: db.prepare(`
        UPDATE queue_items SET status = 'cancelled', updated_at_ms = ?, finished_at_ms = ?
        WHERE id = ? AND status = 'queued'`),
      reclaim: db.prepare(`
        UPDATE queue_items SET status = 'queued', lease_owner = NULL, lease_expires_at_ms = NULL, updated_at_ms = @now
        WHERE status = 'inflight' AND (lease_expires_at_ms <= @now OR (@owner IS NOT NULL AND lease_owner IS NOT @owner))
        RETURNING id`),
      nextDue: {
        llm: db.prepare(nextDueSql("kind != 'mcp_tool_call'")),
        mcp: db.prepare(nextDueSql("kind = 'mcp_tool_call'")),
      },
      counts: db.prepare("SELECT status, count(*) AS n FROM queue_items GROUP BY status"),
      oldestQueued: db.prepare(
        "SELECT min(created_at_ms) AS t FROM queue_items WHERE status IN ('queued', 'inflight')",
      ),
      list: db.prepare(`
        SELECT * FROM queue_items WHERE (@status IS NULL OR status = @status)
        ORDER BY created_at_ms DESC LIMIT @limit`),
      // A retried item starts over: the last failure's error and answer no longer describe it.
      retry: db.prepare(`
        UPDATE queue_items SET status = 'queued', attempts = 0, next_attempt_at_ms = ?, last_error = NULL,
          result_status = NULL, result_content_type = NULL, result_body = NULL,
          finished_at_ms = NULL, updated_at_ms = ? WHERE id = ? AND status IN ('dead', 'failed') RETURNING payload_bytes`),
      retryDead: db.prepare(`
        UPDATE queue_items SET status = 'queued', attempts = 0, next_attempt_at_ms = @now, last_error = NULL,
          result_status = NULL, result_content_type = NULL, result_body = NULL,
          finished_at_ms = NULL, updated_at_ms = @now WHERE status = 'dead' RETURNING id, payload_bytes`),
      purge: db.prepare(`
        DELETE FROM queue_items WHERE status IN (SELECT value FROM json_each(?)) AND coalesce(finished_at_ms, updated_at_ms) <= ?`),
      getResponse: db.prepare(
        "SELECT * FROM idempotent_responses WHERE client_id = ? AND idempotency_key = ?",
      ),
      putResponse: db.prepare(`
        INSERT OR IGNORE INTO idempotent_responses (client_id, idempotency_key, status, content_type, target, body, created_at_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      expireResponses: db.prepare("DELETE FROM idempotent_responses WHERE created_at_ms <= ?"),
    };
    this.recount();
  }

  /** Re-reads the unfinished rows and bytes the limits apply to (another process, such as the CLI, may have changed them). */
  recount(): void {
    const active = this.sql.active.get() as { n: number; bytes: number };
    this.activeRows = active.n;
    this.activeBytes = active.bytes;
  }

  /** Durably enqueues; resolves after the commit that holds the row. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate lets every request already parsed in this turn join the same commit.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    const now = this.now();
    const { maxRows, maxBytes } = this.options.limits;
    let results: EnqueueResult[];
    let addedRows = 0;
    let addedBytes = 0;
    try {
      results = this.db.transaction(() =>
        batch.map(({ input }): EnqueueResult => {
          if (input.idempotencyKey !== undefined) {
            const existing = this.sql.byKey.get(input.clientId, input.idempotencyKey) as Row | undefined;
            if (existing) return { ok: true, item: toItem(existing), created: false };
          }
          const bytes = input.payload.byteLength;
          if (this.activeRows + addedRows + 1 > maxRows || this.activeBytes + addedBytes + bytes > maxBytes) {
            return {
              ok: false,
              reason: "full",
              message: `the queue holds ${this.activeRows + addedRows} items (${this.activeBytes + addedBytes} bytes); limits ${maxRows} items, ${maxBytes} bytes`,
            };
          }
          const id = newItemId();
          this.sql.insert.run({
            id,
            clientId: input.clientId,
            idempotencyKey: input.idempotencyKey ?? null,
            kind: input.kind,
            target: input.target,
            endpoint: input.endpoint,
            payload: input.payload,
            bytes,
            // 0..3, as x-edge-priority: nextDueAtMs seeks exactly these.
            priority: Math.min(3, Math.max(0, Math.round(input.priority) || 0)),
            now,
          });
          addedRows++;
          addedBytes += bytes;
          return { ok: true, item: toItem(this.sql.byId.get(id) as Row), created: true };
        }),
      )();
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    this.activeRows += addedRows;
    this.activeBytes += addedBytes;
    batch.forEach((p, i) => {
      p.resolve(results[i] as EnqueueResult);
    });
    if (addedRows > 0) this.emit("enqueued");
  }

  get(id: string): QueueItem | undefined {
    const row = this.sql.byId.get(id) as Row | undefined;
    return row ? toItem(row) : undefined;
  }

  findByKey(clientId: string, idempotencyKey: string): QueueItem | undefined {
    const row = this.sql.byKey.get(clientId, idempotencyKey) as Row | undefined;
    return row ? toItem(row) : undefined;
  }

  /** Leases up to `limit` due items of `lane` to `owner`, best priority then earliest due first. */
  claimDue(owner: string, limit: number, leaseMs: number, lane: QueueLane = "llm"): QueueItem[] {
    const now = this.now();
    return this.db.transaction(() => {
      const ids = this.sql.due[lane].all(now, limit) as { id: string }[];
      return ids.map(({ id }) => toItem(this.sql.lease.get(owner, now + leaseMs, now, id) as Row));
    })();
  }

  /** Stores the final answer if `owner` still holds the lease; false when it was lost. */
  finish(
    id: string,
    owner: string,
    status: "done" | "failed" | "dead",
    result: UpstreamResult | undefined,
    error?: string,
  ): boolean {
    const row = this.get(id);
    const changed = this.sql.finish.run({
      id,
      owner,
      status,
      resultStatus: result?.status ?? null,
      contentType: result?.contentType ?? null,
      body: result?.body ?? null,
      error: error ?? null,
      now: this.now(),
    }).changes;
    if (changed === 1) {
      this.activeRows--;
      this.activeBytes -= row?.payload.byteLength ?? 0;
      this.emit("changed", id, status);
    }
    return changed === 1;
  }

  /** Puts a leased item back for another try at `nextAtMs`. */
  reschedule(id: string, owner: string, nextAtMs: number, error: string): boolean {
    const next = wholeMs(nextAtMs);
    const changed = this.sql.reschedule.run({ id, owner, next, error, now: this.now() }).changes;
    if (changed === 1) this.emit("changed", id, "queued");
    return changed === 1;
  }

  /** Gives a leased item back untried (the attempt does not count), due again at `nextAtMs`. */
  release(id: string, owner: string, nextAtMs: number): boolean {
    const changed = this.sql.release.run({ id, owner, next: wholeMs(nextAtMs), now: this.now() }).changes;
    if (changed === 1) this.emit("changed", id, "queued");
    return changed === 1;
  }

  /** Cancels an item not yet handed to the upstream. */
  cancel(id: string): "cancelled" | "not_found" | QueueStatus {
    const now = this.now();
    const item = this.get(id);
    if (!item) return "not_found";
    if (this.sql.cancel.run(now, now, id).changes === 1) {
      this.activeRows--;
      this.activeBytes -= item.payload.byteLength;
      this.emit("changed", id, "cancelled");
      return "cancelled";
    }
    return item.status;
  }

  /**
   * Returns in-flight items to the queue: those whose lease expired, and at start-up every lease
   * not held by `owner` (its holder was this data directory's previous, dead process).
   */
  reclaimLeases(owner: string | null = null): number {
    const now = this.now();
    const rows = this.sql.reclaim.all({ now, owner }) as { id: string }[];
    for (const { id } of rows) this.emit("changed", id, "queued");
    return rows.length;
  }

  /** Wall-clock time of the earliest queued item's next try in `lane`, if any. */
  nextDueAtMs(lane: QueueLane = "llm"): number | undefined {
    return (this.sql.nextDue[lane].get() as { t: number | null }).t ?? undefined;
  }

  /** Operator: sends a dead or failed item again from attempt 0. */
  retry(id: string): boolean {
    const now = this.now();
    const row = this.sql.retry.get(now, now, id) as { payload_bytes: number } | undefined;
    if (!row) return false;
    this.activeRows++;
    this.activeBytes += row.payload_bytes;
    this.emit("changed", id, "queued");
    this.emit("enqueued");
    return true;
  }

  /** Operator: sends every dead item again from attempt 0; returns how many. */
  retryAllDead(): number {
    const rows = this.sql.retryDead.all({ now: this.now() }) as { id: string; payload_bytes: number }[];
    for (const { id, payload_bytes } of rows) {
      this.activeRows++;
      this.activeBytes += payload_bytes;
      this.emit("changed", id, "queued");
    }
    if (rows.length > 0) this.emit("enqueued");
    return rows.length;
  }

  /** Operator or retention: deletes finished items in `statuses` finished at or before `beforeMs`. */
  purge(statuses: readonly QueueStatus[], beforeMs = Number.MAX_SAFE_INTEGER): number {
    const finished = statuses.filter((s) => s !== "queued" && s !== "inflight");
    return this.sql.purge.run(JSON.stringify(finished), beforeMs).changes;
  }

  list(status: QueueStatus | null, limit = 50): QueueItem[] {
    return (this.sql.list.all({ status, limit }) as Row[]).map(toItem);
  }

  stats(): {
    byStatus: Record<QueueStatus, number>;
    oldestActiveAtMs: number | undefined;
    activeBytes: number;
  } {
    const byStatus = { queued: 0, inflight: 0, done: 0, failed: 0, dead: 0, cancelled: 0 };
    for (const { status, n } of this.sql.counts.all() as { status: QueueStatus; n: number }[])
      byStatus[status] = n;
    const oldest = (this.sql.oldestQueued.get() as { t: number | null }).t ?? undefined;
    return { byStatus, oldestActiveAtMs: oldest, activeBytes: this.activeBytes };
  }

  /** The receiving end's stored answer for (client, Idempotency-Key). */
  storedResponse(
    clientId: string,
    key: string,
  ): { status: number; contentType: string; target: string | null; body: Buffer } | undefined {
    const r = this.sql.getResponse.get(clientId, key) as Row | undefined;
    if (!r) return undefined;
    return {
      status: r.status as number,
      contentType: r.content_type as string,
      target: (r.target as string) ?? null,
      body: r.body as Buffer,
    };
  }

  storeResponse(clientId: string, key: string, response: UpstreamResult & { target: string | null }): void {
    this.sql.putResponse.run(
      clientId,
      key,
      response.status,
      response.contentType,
      response.target,
      response.body,
      this.now(),
    );
  }

  /** Retention: forgets finished items and stored answers older than `maxAgeMs`. */
  expire(maxAgeMs: number): { items: number; responses: number } {
    const before = this.now() - maxAgeMs;
    return {
      items: this.purge(["done", "failed", "dead", "cancelled"], before),
      responses: this.sql.expireResponses.run(before).changes,
    };
  }

  close(): void {
    this.db.close();
  }
}
