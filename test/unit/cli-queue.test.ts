import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runQueue } from "../../host/cli-queue.js";
import type { QueueStore } from "../../host/queue/index.js";
import { chatInput, ManualClock, mustEnqueue, type QueueDir, queueDir, rowCount } from "../queue/fixtures.js";

// `edge-gateway queue …` against a real queue.db in a temp data directory, filled through the store
// the gateway uses: two queued items, one in flight, two done, two dead, one failed, one cancelled.

const DAY_MS = 86_400_000;
const ANSWER = {
  status: 200,
  contentType: "application/json",
  body: Buffer.from('{"object":"chat.completion"}'),
};
const UNAVAILABLE = { status: 503, contentType: "application/json", body: Buffer.from('{"error":"down"}') };

let qd: QueueDir;
let clock: ManualClock;
let store: QueueStore;
let ids: Record<
  "queued" | "keyed" | "inflight" | "done" | "dead" | "deadOld" | "failed" | "cancelled",
  string
>;

async function settled(status: "done" | "dead" | "failed", priority = 3) {
  const item = await mustEnqueue(store, chatInput({ priority }));
  expect(store.claimDue("w_1", 1, 60_000).map((i) => i.id)).toEqual([item.id]);
  const result =
    status === "done" ? ANSWER : status === "dead" ? UNAVAILABLE : { ...UNAVAILABLE, status: 400 };
  store.finish(item.id, "w_1", status, result, status === "done" ? undefined : `http ${result.status}: no`);
  return item.id;
}

beforeEach(async () => {
  qd = queueDir("gw-cli-queue-");
  clock = new ManualClock();
  store = qd.open(undefined, clock.now);
  const deadOld = await settled("dead");
  clock.advance(10 * DAY_MS);
  const done = await settled("done");
  const dead = await settled("dead");
  const failed = await settled("failed");
  await settled("done");
  const inflight = (await mustEnqueue(store, chatInput({ priority: 3 }))).id;
  expect(store.claimDue("w_live", 1, 60_000).map((i) => i.id)).toEqual([inflight]);
  const cancelled = (await mustEnqueue(store, chatInput({ priority: 0 }))).id;
  store.cancel(cancelled);
  clock.advance(60_000);
  const queued = (await mustEnqueue(store, chatInput({ priority: 1 }))).id;
  clock.advance(60_000);
  const keyed = (await mustEnqueue(store, chatInput({ clientId: "client-b", idempotencyKey: "order-7" }))).id;
  ids = { queued, keyed, inflight, done, dead, deadOld, failed, cancelled };
  clock.advance(5_000);
});
afterEach(() => qd.cleanup());

function run(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = "";
  let err = "";
  const code = runQueue(argv, {
    env,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    now: clock.now,
  });
  return { code, out, err };
}
const q = (...argv: string[]) => run([...argv, "--data-dir", qd.dir]);
const json = (...argv: string[]) => JSON.parse(q(...argv, "--json").out);

describe("edge-gateway queue ls", () => {
  it("lists items newest first as an aligned table", () => {
    const { code, out } = q("ls");
    expect(code).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PRI\s+TRIES\s+TARGET\s+CLIENT\s+CREATED\s+NEXT\s+LAST ERROR$/);
    expect(lines).toHaveLength(1 + 9);
    expect(lines[1]).toMatch(
      new RegExp(`^${ids.keyed}\\s+queued\\s+2\\s+0\\s+cloud/main\\s+client-b\\s+5s ago\\s+now$`),
    );
    expect(lines.at(-1)).toContain(ids.deadOld);
    expect(lines.at(-1)).toMatch(/10d ago\s+-\s+http 503: no$/);
  });

  it("filters by status and limits the count, and gives JSON with --json", () => {
    const dead = q("ls", "--status", "dead").out.trimEnd().split("\n");
    expect(dead.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([ids.dead, ids.deadOld]);
    expect(q("ls", "--limit", "2").out.trimEnd().split("\n")).toHaveLength(3);
    const items = json("ls", "--status", "queued");
    expect(items.map((i: { id: string }) => i.id)).toEqual([ids.keyed, ids.queued]);
    expect(items[0]).toMatchObject({ client_id: "client-b", idempotency_key: "order-7", attempts: 0 });
    expect(q("ls", "--status", "failed", "--limit", "1").code).toBe(0);
    store.purge(["failed"]);
    expect(q("ls", "--status", "failed").out).toBe("no failed items\n");
  });
});

describe("edge-gateway queue show", () => {
  it("shows an item with its request and the stored answer", () => {
    const { code, out } = q("show", ids.dead);
    expect(code).toBe(0);
    expect(out).toContain(`id              ${ids.dead}\n`);
    expect(out).toContain("status          dead\n");
    expect(out).toContain("last error      http 503: no\n");
    expect(out).toMatch(/request \(\d+ B\):\n {2}\{\n {4}"model": "gpt-test"/);
    expect(out).toContain('answer (HTTP 503, application/json, 16 B):\n  {\n    "error": "down"\n  }\n');
    const detail = json("show", ids.done);
    expect(detail).toMatchObject({
      id: ids.done,
      status: "done",
      payload: { model: "gpt-test" },
      result: { status: 200, body: { object: "chat.completion" } },
    });
  });

  it("exits 1 for an id it does not hold", () => {
    const { code, err } = q("show", "q_nope");
    expect(code).toBe(1);
    expect(err).toBe("edge-gateway queue: no item q_nope\n");
  });
});

describe("edge-gateway queue retry", () => {
  it("sends dead and failed items again from attempt 0", () => {
    const { code, out } = q("retry", ids.dead, ids.failed);
    expect(code).toBe(0);
    expect(out).toBe(`retried ${ids.dead}\nretried ${ids.failed}\n`);
    expect(store.get(ids.dead)).toMatchObject({ status: "queued", attempts: 0, resultStatus: null });
    expect(store.get(ids.failed)?.status).toBe("queued");
  });

  it("retries what it can and exits 1 naming unknown and unretryable ids", () => {
    const { code, out, err } = q("retry", ids.dead, "q_nope", ids.done);
    expect(code).toBe(1);
    expect(out).toBe(`retried ${ids.dead}\n`);
    expect(err).toContain("no item q_nope\n");
    expect(err).toContain(`${ids.done} is done; only dead or failed items can be retried\n`);
    expect(store.get(ids.done)?.status).toBe("done");
  });

  it("retries every dead item with --all-dead", () => {
    expect(json("retry", "--all-dead")).toEqual({ retried: 2 });
    expect(store.get(ids.deadOld)?.status).toBe("queued");
    expect(store.get(ids.failed)?.status).toBe("failed");
    expect(q("retry", "--all-dead").out).toBe("retried 0 dead items\n");
  });
});

describe("edge-gateway queue purge", () => {
  it("deletes finished items of the given statuses older than the cut-off, never active ones", () => {
    const { code, out } = q("purge", "--status", "dead", "--older-than", "7d");
    expect(code).toBe(0);
    expect(out).toMatch(/^purged 1 item \(dead\) finished before \d{4}-\d\d-\d\dT/);
    expect(store.get(ids.deadOld)).toBeUndefined();
    expect(store.get(ids.dead)?.status).toBe("dead");
    expect(json("purge")).toMatchObject({ purged: 5, statuses: ["done", "failed", "dead", "cancelled"] });
    expect(rowCount(qd.dbPath)).toBe(3);
    expect(store.stats().byStatus).toMatchObject({ queued: 2, inflight: 1 });
  });

  it("refuses to purge queued or in-flight items, with exit 2 and nothing deleted", () => {
    const { code, err } = q("purge", "--status", "dead,queued");
    expect(code).toBe(2);
    expect(err).toContain("purge deletes finished items only (done, failed, dead, cancelled), not queued");
    expect(rowCount(qd.dbPath)).toBe(9);
  });
});

describe("edge-gateway queue stats", () => {
  it("counts items by status and shows the oldest undelivered one", () => {
    const { code, out } = q("stats");
    expect(code).toBe(0);
    expect(out).toMatch(
      /^STATUS\s+ITEMS\nqueued\s+2\ninflight\s+1\ndone\s+2\nfailed\s+1\ndead\s+2\ncancelled\s+1\n/,
    );
    expect(out).toMatch(/oldest undelivered {3}\S+ \(2m ago\)/);
    expect(out).toContain(`database             ${qd.dbPath} (`);
    const stats = json("stats");
    expect(stats.by_status).toEqual({ queued: 2, inflight: 1, done: 2, failed: 1, dead: 2, cancelled: 1 });
    expect(stats.oldest_active_at_ms).toBe(store.get(ids.inflight)?.createdAtMs);
    expect(stats.database_bytes).toBeGreaterThan(0);
  });
});

describe("edge-gateway queue: data directory, usage and exit codes", () => {
  it("finds queue.db through --data-dir first, then GATEWAY_DATA_DIR", () => {
    expect(run(["stats"], { GATEWAY_DATA_DIR: qd.dir }).code).toBe(0);
    const elsewhere = join(qd.dir, "elsewhere");
    const flagWins = run(["stats", "--data-dir", elsewhere], { GATEWAY_DATA_DIR: qd.dir });
    expect(flagWins.code).toBe(1);
    expect(flagWins.err).toContain(`no queue database at ${join(elsewhere, "queue.db")}`);
    // Looking never creates a database, or the directory.
    expect(existsSync(elsewhere)).toBe(false);
  });

  it("exits 2 on a usage error before opening anything", () => {
    for (const argv of [
      ["frobnicate"],
      ["toString"],
      ["ls", "--bogus"],
      ["ls", "--older-than", "7d"],
      ["ls", "--status", "lost"],
      ["ls", "--limit", "0"],
      ["ls", "extra"],
      ["show"],
      ["show", "a", "b"],
      ["retry"],
      ["retry", "--all-dead", ids.dead],
      ["purge", "--older-than", "a week"],
    ]) {
      const { code, err } = run([...argv, "--data-dir", join(qd.dir, "missing")]);
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(err).toContain("Usage:");
    }
  });

  it("prints its usage for help, with exit 0", () => {
    for (const argv of [[], ["help"], ["--help"], ["ls", "--help"]]) {
      const { code, out } = run(argv);
      expect(code).toBe(0);
      expect(out).toContain("edge-gateway queue retry --all-dead");
    }
  });

  it("works beside a running gateway's open connection, each seeing the other's commits", async () => {
    // `store` stays open throughout, as the gateway holds it.
    const fresh = await mustEnqueue(store, chatInput({ idempotencyKey: "while-running" }));
    expect(json("show", fresh.id).status).toBe("queued");
    expect(q("retry", ids.dead).code).toBe(0);
    expect(store.get(ids.dead)?.status).toBe("queued");
    expect(store.claimDue("w_live", 10, 60_000).map((i) => i.id)).toContain(ids.dead);
  });

  it("exits 1 with the reason when the database is from a newer gateway", () => {
    store.db.pragma("user_version = 9");
    const { code, err } = q("stats");
    expect(code).toBe(1);
    expect(err).toBe(
      "edge-gateway queue: the queue database is at schema version 9, newer than this gateway knows (4)\n",
    );
  });
});
