import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CliProcess } from "../e2e/cli-process.js";
import {
  type FakeOpenAIUpstream,
  type RecordedRequest,
  startFakeOpenAIUpstream,
} from "../fakes/openai-upstream.js";
import {
  freePort,
  killHard,
  type QueueRow,
  readQueue,
  startChild,
  stopChild,
  within,
} from "./gateway-child.js";
import { contentOf, indexOf, newSent, type Sent, sendQueued, waitFinished } from "./queue-client.js";

// The gateway runs as a child process (the CLI through tsx) on a fixed port and data directory and
// dies by SIGKILL twice: while clients are enqueueing with the cloud down, and while it syncs to the
// returned cloud. The fake cloud honours Idempotency-Key, so it shows both what was executed (once
// per key) and what was sent (re-sends). The full 500 requests run by default (about 10 s here);
// CHAOS_REQUESTS=n runs another count.

const TOTAL = Number(process.env.CHAOS_REQUESTS ?? 500);
const IN_FLIGHT = 20;
const KEY = "chaos-key";
const CLOUD_KEY = "x";
const CHAT = "/v1/chat/completions";

let gateway: CliProcess | undefined;
const clouds: FakeOpenAIUpstream[] = [];
let dir: string | undefined;

afterEach(async () => {
  await stopChild(gateway);
  await Promise.all(clouds.map((c) => c.close().catch(() => undefined)));
  clouds.length = 0;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = gateway = undefined;
});

function gatewayEnv(port: number, dataDir: string, cloudPort: number): Record<string, string> {
  return {
    GATEWAY_PORT: String(port),
    GATEWAY_DATA_DIR: dataDir,
    GATEWAY_API_KEYS: KEY,
    // The built-in tiny model would serve these locally; this test is about the cloud queue.
    GATEWAY_MODELS__ENABLED: "false",
    GATEWAY_CLOUD_URL: `http://127.0.0.1:${cloudPort}/v1`,
    GATEWAY_CLOUD_API_KEY: CLOUD_KEY,
    GATEWAY_LOG_LEVEL: "info",
    GATEWAY_CORE__LIMITER__TIERS__DEFAULT__REQUESTS_PER_MINUTE: "0",
    GATEWAY_CORE__LIMITER__TIERS__DEFAULT__TOKENS_PER_MINUTE: "0",
    GATEWAY_CLOUD__PROBE_MIN_MS: "100",
    GATEWAY_CLOUD__PROBE_MAX_MS: "500",
    GATEWAY_CLOUD__PASSIVE_FAILURES: "1",
    GATEWAY_CORE__RETRY__BASE_MS: "50",
    GATEWAY_CORE__RETRY__CAP_MS: "500",
    GATEWAY_CORE__RETRY__MAX_ATTEMPTS: "50",
    GATEWAY_QUEUE__POLL_MS: "100",
  };
}

/** Each row is a request that was sent, once: acknowledged with this id, or cut off by the kill. */
function expectRowsAreSentRequests(rows: Map<string, QueueRow>, sent: Sent): void {
  const indices = [...rows.values()].map((row) => indexOf(row.content));
  expect(new Set(indices).size).toBe(rows.size);
  for (const row of rows.values()) {
    const i = indexOf(row.content);
    expect(sent.acked.get(i) === row.id || sent.cut.has(i), `row ${row.id} (${row.content})`).toBe(true);
  }
}

const chatRequests = (cloud: FakeOpenAIUpstream): RecordedRequest[] =>
  cloud.requests.filter((r) => r.method === "POST" && r.path === CHAT);
const keyOf = (r: RecordedRequest): string => String(r.headers["idempotency-key"]);

describe("the offline queue across kill -9 of the gateway process", () => {
  it("delivers every acknowledged request exactly once, re-sending only deliveries a kill cut off", async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-chaos-crash-"));
    const dbPath = join(dir, "queue.db");
    const port = await freePort();
    let cloudPort = await freePort();
    for (let i = 0; i < 5 && cloudPort === port; i++) cloudPort = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = gatewayEnv(port, dir, cloudPort);
    const sent = newSent();

    // Life 1, cloud down (nothing listens on its port): kill -9 once half are acknowledged.
    const life1 = await startChild(env);
    gateway = life1;
    let kill1: Promise<void> | undefined;
    const unsent = await sendQueued({
      url,
      key: KEY,
      indices: Array.from({ length: TOTAL }, (_, i) => i),
      inFlight: IN_FLIGHT,
      sent,
      stop: () => kill1 !== undefined,
      onAck: () => {
        if (kill1 === undefined && sent.acked.size >= TOTAL / 2) kill1 = killHard(life1);
      },
    });
    await kill1;
    expect(kill1).toBeDefined();
    expect(sent.refused).toEqual(new Map());
    const afterKill1 = readQueue(dbPath);
    // Acknowledged means on disk: every 202 before the kill is a row, carrying its request.
    for (const [i, id] of sent.acked) expect(afterKill1.get(id)?.content).toBe(contentOf(i));
    expectRowsAreSentRequests(afterKill1, sent);
    const cutInLife1 = sent.cut.size;

    // Life 2: the rest are sent and all acknowledged; then the cloud returns.
    gateway = await startChild(env);
    expect(await sendQueued({ url, key: KEY, indices: unsent, inFlight: IN_FLIGHT, sent })).toEqual([]);
    expect(sent.cut.size).toBe(cutInLife1);
    expect(sent.refused).toEqual(new Map());
    expect(sent.acked.size + sent.cut.size).toBe(TOTAL);

    const first = await startFakeOpenAIUpstream({ port: cloudPort, apiKey: CLOUD_KEY, dedupe: true });
    clouds.push(first);
    // Answers leave 20 ms after the request is executed, so deliveries are in flight at the kill.
    first.always({ path: CHAT, firstByteDelayMs: 20 });
    const third = Math.floor(sent.acked.size / 3);
    await within(
      30_000,
      "a third executed while a delivery is in flight",
      first.until(
        () => first.executions.size >= third && chatRequests(first).some((r) => r.outcome === "open"),
      ),
    );
    await killHard(gateway);
    const atKill2 = readQueue(dbPath);
    // A new fake on the same port with the same memory: its records are life 3's alone.
    await first.close();
    const second = await startFakeOpenAIUpstream({
      port: cloudPort,
      apiKey: CLOUD_KEY,
      dedupe: first.ledger,
    });
    clouds.push(second);
    second.always({ path: CHAT, firstByteDelayMs: 20 });

    const committed = new Set(atKill2.keys());
    const inflightAtKill = new Set(
      [...atKill2.values()].filter((r) => r.status === "inflight").map((r) => r.id),
    );
    const doneAtKill = new Set([...atKill2.values()].filter((r) => r.status === "done").map((r) => r.id));
    expect([...afterKill1.keys()].filter((id) => !committed.has(id))).toEqual([]);
    for (const id of sent.acked.values()) expect(committed.has(id)).toBe(true);
    expectRowsAreSentRequests(atKill2, sent);
    // Mid-sync: some delivered, some not.
    expect(doneAtKill.size).toBeGreaterThan(0);
    expect(doneAtKill.size).toBeLessThan(committed.size);

    // Life 3: reclaims the leases of the dead process and finishes the work.
    gateway = await startChild(env);
    const reclaimed = await gateway.waitForLine(
      (l) => l.msg === "queue: reclaimed in-flight items of a previous run",
    );
    expect(reclaimed.reclaimed).toBe(inflightAtKill.size);
    const views = await waitFinished(url, KEY, [...committed], Date.now() + 60_000);

    const ledger = second;
    for (const id of committed) {
      const view = views.get(id);
      expect(view?.status, id).toBe("done");
      expect(view?.result?.status).toBe(200);
      // Executed exactly once, with the request this id was acknowledged for.
      expect(ledger.executions.get(id), id).toBe(1);
      const executed = [...chatRequests(first), ...chatRequests(second)].find(
        (r) => keyOf(r) === id && r.idempotency === "executed",
      );
      expect(executed?.body.messages[0].content).toBe(atKill2.get(id)?.content);
      // The stored result is the cloud's answer byte for byte.
      const raw = await fetch(`${url}/v1/queue/${id}/result`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(await raw.text()).toBe(ledger.answers.get(id));
    }
    // Nothing executed that was never enqueued.
    expect([...ledger.executions.keys()].filter((id) => !committed.has(id))).toEqual([]);

    // Re-sends: exactly the deliveries in flight at the second kill that had reached the cloud.
    const life2 = chatRequests(first);
    const life3 = chatRequests(second);
    const reachedBeforeKill = new Set(life2.map(keyOf));
    for (const r of life2.filter((r) => r.outcome === "closed-early"))
      expect(inflightAtKill.has(keyOf(r))).toBe(true);
    const resent = [...ledger.received].filter(([, n]) => n > 1).map(([key]) => key);
    for (const key of resent) {
      expect(inflightAtKill.has(key), key).toBe(true);
      expect(ledger.received.get(key)).toBe(2);
      expect(life2.filter((r) => keyOf(r) === key).map((r) => r.idempotency)).toEqual(["executed"]);
      expect(life3.filter((r) => keyOf(r) === key).map((r) => r.idempotency)).toEqual(["replayed"]);
    }
    const cutOff = [...inflightAtKill].filter((id) => reachedBeforeKill.has(id));
    expect(new Set(resent)).toEqual(new Set(cutOff));
    expect(resent.length).toBeGreaterThan(0);
    for (const id of doneAtKill) expect(ledger.received.get(id), id).toBe(1);

    // A clean stop, then the file itself: every row done, none queued or in flight.
    gateway.child.kill("SIGTERM");
    expect(await gateway.exited(15_000)).toBe(0);
    const final = readQueue(dbPath);
    expect(new Set(final.keys())).toEqual(committed);
    expect(new Set([...final.values()].map((r) => r.status))).toEqual(new Set(["done"]));

    console.info(
      JSON.stringify({
        chaos: "queue-crash",
        requests: TOTAL,
        acknowledged: sent.acked.size,
        cutByKill1: sent.cut.size,
        cutButCommitted: committed.size - sent.acked.size,
        doneAtKill2: doneAtKill.size,
        inflightAtKill2: inflightAtKill.size,
        resent: resent.length,
        resentFirstOutcomes: resent.flatMap((key) =>
          life2.filter((r) => keyOf(r) === key).map((r) => r.outcome),
        ),
      }),
    );
  }, 90_000);
});
