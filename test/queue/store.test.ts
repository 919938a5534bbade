import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ERROR_CATALOGUE } from "../../host/errors.js";
import { MIGRATIONS, QueueStore } from "../../host/queue/index.js";
import {
  chatInput,
  ManualClock,
  mustEnqueue,
  onDisk,
  type QueueDir,
  queueDir,
  ROOMY,
  rowCount,
} from "./fixtures.js";

let qd: QueueDir;
let clock: ManualClock;

beforeEach(() => {
  qd = queueDir("gw-store-");
  clock = new ManualClock();
});
afterEach(() => qd.cleanup());

const LEASE_MS = 60_000;
const RESULT = { status: 200, contentType: "application/json", body: Buffer.from('{"ok":true}') };

describe("QueueStore.enqueue", () => {
  it("acknowledges only after the row is committed: another connection already sees it", async () => {
    const store = qd.open(ROOMY, clock.now);
    const seenOnAck = await store
      .enqueue(chatInput())
      .then((result) =>
        onDisk(qd.dbPath, (db) => (result.ok ? db.prepare("SELECT id FROM queue_items").get() : undefined)),
      );
    const [item] = store.list(null);
    expect(seenOnAck).toEqual({ id: item?.id });
    expect(item).toMatchObject({ status: "queued", attempts: 0, nextAttemptAtMs: clock.ms });
    expect(item?.id).toMatch(/^q_[\w-]{22}$/);
  });

  it("refuses an item beyond maxRows with a full result (HTTP 503) and writes nothing", async () => {
    const store = qd.open({ maxRows: 2, maxBytes: 1_000_000 }, clock.now);
    await mustEnqueue(store, chatInput());
    await mustEnqueue(store, chatInput());
    const refused = await store.enqueue(chatInput());
    expect(refused).toMatchObject({ ok: false, reason: "full" });
    expect(refused.ok ? "" : refused.message).toContain("limits 2 items");
    expect(ERROR_CATALOGUE.queue_full.status).toBe(503);
    expect(rowCount(qd.dbPath)).toBe(2);
  });

  it("refuses an item beyond maxBytes and writes nothing, while a smaller one that fits is taken", async () => {
    const store = qd.open({ maxRows: 100, maxBytes: 100 }, clock.now);
    const payload = (bytes: number) => Buffer.alloc(bytes, "x");
    await mustEnqueue(store, chatInput({ payload: payload(60) }));
    expect(await store.enqueue(chatInput({ payload: payload(41) }))).toMatchObject({
      ok: false,
      reason: "full",
    });
    expect(rowCount(qd.dbPath)).toBe(1);
    await mustEnqueue(store, chatInput({ payload: payload(40) }));
    expect(store.stats().activeBytes).toBe(100);
    expect(rowCount(qd.dbPath)).toBe(2);
  });

  it("applies the limits within one batch: of five concurrent enqueues with room for three, three are taken", async () => {
    const store = qd.open({ maxRows: 3, maxBytes: 1_000_000 }, clock.now);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.enqueue(chatInput())));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, false]);
    expect(rowCount(qd.dbPath)).toBe(3);
  });

  it("makes room again when an item finishes or is cancelled, and re-derives its usage on reopening", async () => {
    const limits = { maxRows: 2, maxBytes: 1_000_000 };
    const store = qd.open(limits, clock.now);
    const a = await mustEnqueue(store, chatInput());
    const b = await mustEnqueue(store, chatInput());
    store.close();
    const reopened = qd.open(limits, clock.now);
    expect((await reopened.enqueue(chatInput())).ok).toBe(false);
    reopened.claimDue("w_1", 1, LEASE_MS);
    expect(reopened.finish(a.id, "w_1", "done", RESULT)).toBe(true);
    expect(reopened.cancel(b.id)).toBe("cancelled");
    await mustEnqueue(reopened, chatInput());
    await mustEnqueue(reopened, chatInput());
    expect((await reopened.enqueue(chatInput())).ok).toBe(false);
  });

  it("returns the same item for the same client and Idempotency-Key, even when the queue is full", async () => {
    const store = qd.open({ maxRows: 1, maxBytes: 1_000_000 }, clock.now);
    const first = await store.enqueue(chatInput({ idempotencyKey: "order-42" }));
    const again = await store.enqueue(chatInput({ idempotencyKey: "order-42", priority: 3 }));
    expect(first).toMatchObject({ ok: true, created: true });
    expect(again).toMatchObject({ ok: true, created: false });
    expect(again.ok && first.ok && again.item.id === first.item.id).toBe(true);
    // The first request's fields stand; a repeat does not edit them.
    expect(again.ok && again.item.priority).toBe(2);
    expect(rowCount(qd.dbPath)).toBe(1);
  });

  it("gives another client a new item for the same Idempotency-Key", async () => {
    const store = qd.open(ROOMY, clock.now);
    const a = await mustEnqueue(store, chatInput({ clientId: "client-a", idempotencyKey: "k" }));
    const b = await mustEnqueue(store, chatInput({ clientId: "client-b", idempotencyKey: "k" }));
    expect(b.id).not.toBe(a.id);
    expect(store.findByKey("client-b", "k")?.id).toBe(b.id);
    expect(rowCount(qd.dbPath)).toBe(2);
  });

  it("collapses concurrent duplicates in one batch into one row, created once", async () => {
    const store = qd.open(ROOMY, clock.now);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.enqueue(chatInput({ idempotencyKey: "dup" }))),
    );
    const ids = new Set(results.map((r) => (r.ok ? r.item.id : "refused")));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.ok && r.created)).toHaveLength(1);
    expect(rowCount(qd.dbPath)).toBe(1);
  });

  it("group-commits 1,000 concurrent enqueues: all acknowledged, all on disk, in far fewer transactions", async () => {
    // A clock that ticks on every read: the store reads it once per commit, so distinct
    // created_at_ms values count commits; the wrapped db.transaction counts them independently.
    let tick = clock.ms;
    const store = qd.open(ROOMY, () => tick++);
    const transactions = vi.spyOn(store.db, "transaction");
    const ROWS = 1_000;
    const results = await Promise.all(
      Array.from({ length: ROWS }, (_, i) => store.enqueue(chatInput({ idempotencyKey: `k-${i}` }))),
    );
    expect(results.every((r) => r.ok && r.created)).toBe(true);
    expect(new Set(results.map((r) => (r.ok ? r.item.id : ""))).size).toBe(ROWS);
    expect(rowCount(qd.dbPath)).toBe(ROWS);
    const commitTimes = onDisk(
      qd.dbPath,
      (db) =>
        (db.prepare("SELECT count(DISTINCT created_at_ms) AS n FROM queue_items").get() as { n: number }).n,
    );
    expect(transactions.mock.calls.length).toBe(commitTimes);
    // All 1,000 were issued in one event-loop turn, so they share one commit.
    expect(commitTimes).toBe(1);
  });
});

describe("QueueStore claims and leases", () => {
  it("claims by priority first, then by earliest due time, and leaves items not yet due", async () => {
    const store = qd.open(ROOMY, clock.now);
    const later = await mustEnqueue(store, chatInput({ priority: 3 }));
    store.claimDue("w_1", 1, LEASE_MS);
    expect(store.reschedule(later.id, "w_1", clock.ms + 10_000, "http 503: busy")).toBe(true);
    const enqueueAfter = async (ms: number, priority: number) => {
      clock.advance(ms);
      return (await mustEnqueue(store, chatInput({ priority }))).id;
    };
    const p1 = await enqueueAfter(1, 1);
    const p3Early = await enqueueAfter(1, 3);
    const p2 = await enqueueAfter(1, 2);
    const p3Late = await enqueueAfter(1, 3);
    expect(store.claimDue("w_2", 10, LEASE_MS).map((i) => i.id)).toEqual([p3Early, p3Late, p2, p1]);
    expect(store.claimDue("w_2", 10, LEASE_MS)).toEqual([]);
    clock.ms = store.get(later.id)?.nextAttemptAtMs ?? Number.NaN;
    expect(store.claimDue("w_2", 10, LEASE_MS).map((i) => i.id)).toEqual([later.id]);
  });

  it("leases a claimed item to its owner, counting the attempt, until the lease expires", async () => {
    const store = qd.open(ROOMY, clock.now);
    const item = await mustEnqueue(store, chatInput());
    const [claimed] = store.claimDue("w_1", 5, LEASE_MS);
    expect(claimed).toMatchObject({
      id: item.id,
      status: "inflight",
      attempts: 1,
      leaseOwner: "w_1",
      leaseExpiresAtMs: clock.ms + LEASE_MS,
    });
    expect(store.claimDue("w_2", 5, LEASE_MS)).toEqual([]);
  });

  it("changes nothing when finish, reschedule or release come from an owner without the lease", async () => {
    const store = qd.open(ROOMY, clock.now);
    const item = await mustEnqueue(store, chatInput());
    const [leased] = store.claimDue("w_1", 1, LEASE_MS);
    expect(store.finish(item.id, "w_other", "done", RESULT)).toBe(false);
    expect(store.reschedule(item.id, "w_other", clock.ms + 5_000, "nope")).toBe(false);
    expect(store.release(item.id, "w_other", clock.ms)).toBe(false);
    expect(store.get(item.id)).toEqual(leased);
    expect(store.finish(item.id, "w_1", "done", RESULT)).toBe(true);
    expect(store.get(item.id)).toMatchObject({ status: "done", resultStatus: 200, leaseOwner: null });
    // Once finished, even the former owner cannot touch it.
    expect(store.reschedule(item.id, "w_1", clock.ms, "late")).toBe(false);
  });

  it("gives the attempt back on release, and stores whole milliseconds for a fractional due time", async () => {
    const store = qd.open(ROOMY, clock.now);
    const item = await mustEnqueue(store, chatInput());
    store.claimDue("w_1", 1, LEASE_MS);
    expect(store.release(item.id, "w_1", clock.ms + 0.25)).toBe(true);
    expect(store.get(item.id)).toMatchObject({
      status: "queued",
      attempts: 0,
      nextAttemptAtMs: clock.ms + 1,
    });
    store.claimDue("w_1", 1, LEASE_MS);
    clock.advance(1);
    store.claimDue("w_1", 1, LEASE_MS);
    expect(store.reschedule(item.id, "w_1", clock.ms + 1234.5, "http 503: busy")).toBe(true);
    expect(store.get(item.id)).toMatchObject({ attempts: 1, nextAttemptAtMs: clock.ms + 1235 });
  });

  it("reclaims at start a lease held by another owner, and its own lease only once expired", async () => {
    const first = qd.open(ROOMY, clock.now);
    const orphan = await mustEnqueue(first, chatInput());
    first.claimDue("w_dead", 1, LEASE_MS);
    first.close();

    const store = qd.open(ROOMY, clock.now);
    const own = await mustEnqueue(store, chatInput());
    store.claimDue("w_new", 1, LEASE_MS);
    const changed: string[] = [];
    store.on("changed", (id, status) => changed.push(`${id}:${status}`));
    expect(store.reclaimLeases("w_new")).toBe(1);
    expect(changed).toEqual([`${orphan.id}:queued`]);
    expect(store.get(orphan.id)).toMatchObject({ status: "queued", attempts: 1, leaseOwner: null });
    expect(store.get(own.id)?.status).toBe("inflight");

    expect(store.reclaimLeases()).toBe(0);
    clock.advance(LEASE_MS);
    expect(store.reclaimLeases()).toBe(1);
    expect(store.get(own.id)).toMatchObject({ status: "queued", leaseExpiresAtMs: null });
    // The delivery that lost its lease can no longer overwrite the item.
    expect(store.finish(own.id, "w_new", "done", RESULT)).toBe(false);
  });
});

describe("QueueStore lanes", () => {
  it("hands LLM requests and MCP tool calls to their own workers, each with its own next due time", async () => {
    const store = qd.open(ROOMY, clock.now);
    const chat = await mustEnqueue(store, chatInput());
    const tool = await mustEnqueue(
      store,
      chatInput({ kind: "mcp_tool_call", target: "mcp/tickets", endpoint: "tools/call" }),
    );
    expect(store.nextDueAtMs("llm")).toBe(clock.ms);
    expect(store.nextDueAtMs("mcp")).toBe(clock.ms);
    expect(store.claimDue("w", 10, LEASE_MS).map((i) => i.id)).toEqual([chat.id]);
    expect(store.nextDueAtMs("llm")).toBeUndefined();
    expect(store.claimDue("m", 10, LEASE_MS, "mcp").map((i) => i.id)).toEqual([tool.id]);
    expect(store.claimDue("w", 10, LEASE_MS)).toEqual([]);
  });
});

describe("QueueStore operator actions", () => {
  async function deadItem(store: QueueStore) {
    // Top priority, so the claim takes this item and not an older one waiting.
    const item = await mustEnqueue(store, chatInput({ priority: 3 }));
    expect(store.claimDue("w_1", 1, LEASE_MS).map((i) => i.id)).toEqual([item.id]);
    const error = { status: 503, contentType: "application/json", body: Buffer.from('{"error":{}}') };
    store.finish(item.id, "w_1", "dead", error, "http 503: unavailable");
    return item;
  }

  it("cancels a queued item, but not one in flight or finished", async () => {
    const store = qd.open(ROOMY, clock.now);
    const queued = await mustEnqueue(store, chatInput({ priority: 0 }));
    const inflight = await mustEnqueue(store, chatInput({ priority: 3 }));
    store.claimDue("w_1", 1, LEASE_MS);
    expect(store.cancel(queued.id)).toBe("cancelled");
    expect(store.get(queued.id)).toMatchObject({ status: "cancelled", finishedAtMs: clock.ms });
    expect(store.cancel(inflight.id)).toBe("inflight");
    expect(store.get(inflight.id)?.status).toBe("inflight");
    store.finish(inflight.id, "w_1", "done", RESULT);
    expect(store.cancel(inflight.id)).toBe("done");
    expect(store.cancel("q_missing")).toBe("not_found");
    expect(store.stats().byStatus).toMatchObject({ cancelled: 1, done: 1, queued: 0, inflight: 0 });
  });

  it("sends a dead item again from attempt 0, with its error and stale result cleared", async () => {
    const store = qd.open(ROOMY, clock.now);
    const item = await deadItem(store);
    expect(store.get(item.id)).toMatchObject({ status: "dead", attempts: 1, resultStatus: 503 });
    clock.advance(1_000);
    expect(store.retry(item.id)).toBe(true);
    expect(store.get(item.id)).toMatchObject({
      status: "queued",
      attempts: 0,
      nextAttemptAtMs: clock.ms,
      lastError: null,
      finishedAtMs: null,
      resultStatus: null,
      resultBody: null,
    });
    expect(store.claimDue("w_2", 1, LEASE_MS).map((i) => i.id)).toEqual([item.id]);
  });

  it("refuses to retry an item that is queued, in flight or done", async () => {
    const store = qd.open(ROOMY, clock.now);
    const item = await mustEnqueue(store, chatInput());
    expect(store.retry(item.id)).toBe(false);
    store.claimDue("w_1", 1, LEASE_MS);
    expect(store.retry(item.id)).toBe(false);
    store.finish(item.id, "w_1", "done", RESULT);
    expect(store.retry(item.id)).toBe(false);
    expect(store.retry("q_missing")).toBe(false);
  });

  it("retries every dead item at once, and only those", async () => {
    const store = qd.open(ROOMY, clock.now);
    const dead = [await deadItem(store), await deadItem(store)];
    const failed = await mustEnqueue(store, chatInput());
    store.claimDue("w_1", 1, LEASE_MS);
    store.finish(failed.id, "w_1", "failed", RESULT, "http 400");
    expect(store.retryAllDead()).toBe(2);
    for (const item of dead) expect(store.get(item.id)).toMatchObject({ status: "queued", attempts: 0 });
    expect(store.get(failed.id)?.status).toBe("failed");
    expect(store.retryAllDead()).toBe(0);
  });

  it("purges only the finished statuses asked for, finished before the cut-off, never active items", async () => {
    const store = qd.open(ROOMY, clock.now);
    const old = await deadItem(store);
    clock.advance(10_000);
    const recent = await deadItem(store);
    const queued = await mustEnqueue(store, chatInput());
    const cancelled = await mustEnqueue(store, chatInput());
    store.cancel(cancelled.id);
    expect(store.purge(["dead"], clock.ms - 5_000)).toBe(1);
    expect(store.get(old.id)).toBeUndefined();
    expect(store.get(recent.id)?.status).toBe("dead");
    expect(store.purge(["queued", "inflight"])).toBe(0);
    expect(store.get(queued.id)?.status).toBe("queued");
    expect(store.purge(["dead", "cancelled"])).toBe(2);
    expect(rowCount(qd.dbPath)).toBe(1);
  });

  it("expires finished items and stored answers older than the retention, keeping everything else", async () => {
    const store = qd.open(ROOMY, clock.now);
    const done = await mustEnqueue(store, chatInput());
    store.claimDue("w_1", 1, LEASE_MS);
    store.finish(done.id, "w_1", "done", RESULT);
    store.storeResponse("client-a", "old-key", { ...RESULT, target: "cloud/main" });
    const waiting = await mustEnqueue(store, chatInput());
    clock.advance(7 * 86_400_000);
    store.storeResponse("client-a", "new-key", { ...RESULT, target: null });
    expect(store.expire(7 * 86_400_000)).toEqual({ items: 1, responses: 1 });
    expect(store.get(done.id)).toBeUndefined();
    expect(store.get(waiting.id)?.status).toBe("queued");
    expect(store.storedResponse("client-a", "old-key")).toBeUndefined();
    expect(store.storedResponse("client-a", "new-key")).toMatchObject({ status: 200, target: null });
  });

  it("reports counts by status, the oldest undelivered item and its bytes", async () => {
    const store = qd.open(ROOMY, clock.now);
    const first = await mustEnqueue(store, chatInput());
    clock.advance(5_000);
    await mustEnqueue(store, chatInput());
    await deadItem(store);
    expect(store.stats()).toEqual({
      byStatus: { queued: 2, inflight: 0, done: 0, failed: 0, dead: 1, cancelled: 0 },
      oldestActiveAtMs: first.createdAtMs,
      activeBytes: 2 * first.payload.byteLength,
    });
  });
});

describe("QueueStore migrations", () => {
  const latest = MIGRATIONS.at(-1)?.version;

  it("brings a fresh database to the latest schema version, in WAL mode", () => {
    const store = qd.open(ROOMY, clock.now);
    expect(latest).toBe(4);
    expect(store.db.pragma("user_version", { simple: true })).toBe(latest);
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
  });

  it("keeps the data on reopening and does not run a migration twice", async () => {
    const store = qd.open(ROOMY, clock.now);
    const item = await mustEnqueue(store, chatInput());
    store.close();
    const reopened = qd.open(ROOMY, clock.now);
    expect(reopened.get(item.id)?.status).toBe("queued");
    expect(reopened.db.pragma("user_version", { simple: true })).toBe(latest);
  });

  it("refuses a database written by a newer gateway, with a clear error, and leaves it as it was", () => {
    const db = new Database(qd.dbPath);
    db.exec("CREATE TABLE from_the_future (x INTEGER)");
    db.pragma("user_version = 7");
    db.close();
    expect(() => new QueueStore(qd.dbPath, { limits: ROOMY })).toThrow(
      "the queue database is at schema version 7, newer than this gateway knows (4)",
    );
    onDisk(qd.dbPath, (check) => {
      expect(check.pragma("user_version", { simple: true })).toBe(7);
      const tables = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
      expect(tables).toEqual([{ name: "from_the_future" }]);
    });
  });
});
