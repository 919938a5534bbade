import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { CliProcess } from "../e2e/cli-process.js";
import { between, CHAOS_FULL, chaosSeed, envInt, seeded } from "./chaos-profile.js";
import { exactlyOnce, judgeResends, type KillSnapshot, rowsAreSentRequests } from "./exactly-once.js";
import { type FlappingCloud, flappingCloud } from "./flapping-cloud.js";
import {
  freePort,
  killHard,
  type QueueRow,
  readQueue,
  startChild,
  stopChild,
  within,
} from "./gateway-child.js";
import { contentOf, newSent, sendQueued, waitFinished } from "./queue-client.js";

// The offline queue across kill -9 of the gateway process. The gateway runs as a child process (the
// CLI through tsx) on a fixed port and data directory. Clients send `Prefer: respond-async` chat
// requests in waves, one wave per life; half carry an Idempotency-Key and are sent again after a
// kill cut them off, the others are given up. The first life runs with the cloud down; from then on
// the fake cloud flaps (down, up, closed with every connection cut; while up some answers are 500,
// 502, 429 Retry-After, cut half-way or never sent). Lives die by SIGKILL in turn mid-enqueue (at a
// random count of this wave's acknowledgements) and mid-delivery (at a random count of executions,
// at a moment a delivery the cloud executed is still on its way back). The last life finishes.
// After every kill the queue file is read.
//
// Proven: every 202 is on disk at the next kill; nothing committed is lost or changes back; each
// kill's leases are reclaimed at the next start; at the end every committed request was executed
// by the cloud exactly once, by Idempotency-Key and by content, its stored result is the cloud's
// answer byte for byte, and every re-send the cloud saw followed an interruption (a delivery cut
// off after execution was answered by replay).
//
// Short profile (npm test): 1,000 requests, 4 kills. CHAOS_FULL=1: 10,000 requests, 12 kills.
// CHAOS_REQUESTS, CHAOS_KILLS and CHAOS_SEED override; the seed is printed with the figures.

const TOTAL = envInt("CHAOS_REQUESTS", CHAOS_FULL ? 10_000 : 1_000);
const KILLS = envInt("CHAOS_KILLS", CHAOS_FULL ? 12 : 4);
const SEED = chaosSeed();
/** Bound on each life's wait for its kill, and on the final drain. */
const PHASE_MS = CHAOS_FULL ? 300_000 : 40_000;
const IN_FLIGHT = 20;
const KEY = "chaos-key";
const CLOUD_KEY = "x";

let gateway: CliProcess | undefined;
let cloud: FlappingCloud | undefined;
let dir: string | undefined;

afterEach(async () => {
  await stopChild(gateway);
  await cloud?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = gateway = cloud = undefined;
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
    // A hung answer becomes a timeout, a failure on the gateway's side, within one life of the cloud.
    GATEWAY_CLOUD__FIRST_BYTE_TIMEOUT_MS: "1500",
    GATEWAY_CORE__RETRY__BASE_MS: "50",
    GATEWAY_CORE__RETRY__CAP_MS: "500",
    GATEWAY_CORE__RETRY__MAX_ATTEMPTS: "1000",
    // The circuit breaker would add waits of its own; the flapping is the point here.
    GATEWAY_CORE__HEALTH__FAILURE_THRESHOLD: "1000000",
    GATEWAY_CORE__HEALTH__OPEN_ERROR_RATE: "1",
    GATEWAY_QUEUE__POLL_MS: "100",
    GATEWAY_QUEUE__CONCURRENCY: "16",
  };
}

/** Runs `work` over `items` with `lanes` at a time. */
async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

describe("the offline queue across kill -9 of the gateway process and a flapping cloud", () => {
  it(
    `delivers ${TOTAL} requests exactly once through ${KILLS} kills at random moments`,
    async () => {
      const startedMs = Date.now();
      // First, so a failure can be replayed with CHAOS_SEED whatever happens next.
      console.info(JSON.stringify({ chaos: "queue-crash", seed: SEED, requests: TOTAL, kills: KILLS }));
      const random = seeded(SEED);
      dir = mkdtempSync(join(tmpdir(), "gw-chaos-crash-"));
      const dbPath = join(dir, "queue.db");
      const port = await freePort();
      let cloudPort = await freePort();
      for (let i = 0; i < 5 && cloudPort === port; i++) cloudPort = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const env = gatewayEnv(port, dir, cloudPort);
      const flap = flappingCloud({
        port: cloudPort,
        apiKey: CLOUD_KEY,
        random,
        upMs: [400, 1_500],
        downMs: [150, 600],
        firstByteDelayMs: 15,
      });
      cloud = flap;
      const executed = () => (flap.lives.length === 0 ? 0 : flap.ledger.executions.size);
      const sent = newSent();
      const keyOf = (i: number) => (i % 2 === 0 ? `client-${SEED}-${i}` : undefined);
      // Requests go out in waves, one per life, so enqueues and deliveries overlap in every life
      // after the first; what a kill kept from being sent goes out with the next wave.
      const quota = Math.ceil(TOTAL / (KILLS + 1));
      let unsent = Array.from({ length: TOTAL }, (_, i) => i);
      let retry: number[] = [];
      const kills: KillSnapshot[] = [];
      const failures: string[] = [];

      for (let life = 0; life <= KILLS; life++) {
        const previous = kills.at(-1);
        if (previous !== undefined) previous.restartMs = Date.now();
        const child = await startChild(env);
        gateway = child;
        if (previous !== undefined && previous.inflight.size > 0) {
          const line = await child.waitForLine(
            (l) => l.msg === "queue: reclaimed in-flight items of a previous run",
          );
          expect(line.reclaimed, `life ${life} reclaims the leases of the killed one`).toBe(
            previous.inflight.size,
          );
        }
        if (life === 1) flap.start();

        const wave = life === KILLS ? unsent.length : quota;
        const batch = [...retry, ...unsent.slice(0, wave)];
        unsent = unsent.slice(wave);
        let killing = false;
        const acksBefore = sent.acked.size;
        let ackTarget = Number.POSITIVE_INFINITY;
        let atAckTarget: () => void = () => undefined;
        const ackReached = new Promise<void>((resolve) => {
          atAckTarget = resolve;
        });
        const sending = sendQueued({
          url,
          key: KEY,
          indices: batch,
          inFlight: IN_FLIGHT,
          sent,
          keyOf,
          stop: () => killing,
          onAck: () => {
            if (sent.acked.size - acksBefore >= ackTarget) atAckTarget();
          },
        });
        if (life === KILLS) {
          expect(await sending, "the last life sends every request left").toEqual([]);
          break;
        }

        const midEnqueue = life % 2 === 0;
        if (midEnqueue) {
          // After a random share of this life's wave is acknowledged (the first life: cloud down).
          ackTarget = between(random, Math.ceil(batch.length * 0.2), Math.floor(batch.length * 0.8));
          if (sent.acked.size - acksBefore >= ackTarget) atAckTarget();
          await within(PHASE_MS, `life ${life}: ${ackTarget} acknowledgements`, ackReached);
        } else {
          // After a random share of the deliveries, once one the cloud executed is on its way back.
          const target = executed() + between(random, Math.ceil(0.3 * quota), Math.floor(0.9 * quota));
          await within(
            PHASE_MS,
            `life ${life}: ${target} executions`,
            flap.until(() => executed() >= target),
          );
          await pause(between(random, 0, 150));
          await within(
            PHASE_MS,
            `life ${life}: a delivery in flight`,
            flap.until(() => flap.deliveryInFlight()),
          );
        }
        killing = true;
        const atMs = Date.now();
        await killHard(child);
        unsent = [...(await sending), ...unsent];
        const rows = readQueue(dbPath);
        const inflight = new Set([...rows.values()].filter((r) => r.status === "inflight").map((r) => r.id));
        kills.push({ atMs, restartMs: Number.POSITIVE_INFINITY, rows, inflight });

        // Acknowledged means on disk; nothing committed before is lost or undone.
        for (const [i, id] of sent.acked)
          if (rows.get(id)?.content !== contentOf(i)) failures.push(`kill ${life + 1}: 202 ${id} lost`);
        failures.push(...rowsAreSentRequests(rows, sent).map((p) => `kill ${life + 1}: ${p}`));
        for (const row of previous?.rows.values() ?? []) {
          const now = rows.get(row.id);
          if (now === undefined || (row.status === "done" && now.status !== "done"))
            failures.push(`kill ${life + 1}: ${row.id} was ${row.status}, now ${now?.status ?? "gone"}`);
        }
        if (!midEnqueue) expect(inflight.size, `kill ${life + 1} came mid-delivery`).toBeGreaterThan(0);
        // Keyed requests cut off by the kill are sent again, with their key, in the next life.
        retry = [...sent.cut.keys()].filter((i) => keyOf(i) !== undefined && !sent.acked.has(i));
      }
      expect(failures).toEqual([]);
      expect(kills.length).toBe(KILLS);

      // Everything committed: what the last kill left, and what the last life acknowledged.
      const committed = new Map<string, QueueRow>(kills.at(-1)?.rows);
      for (const [i, id] of sent.acked)
        if (!committed.has(id)) committed.set(id, { id, status: "", attempts: 0, content: contentOf(i) });
      await within(
        PHASE_MS,
        `all ${committed.size} committed requests executed`,
        flap.until(() => [...committed.keys()].every((id) => flap.ledger.executions.has(id))),
      );
      await flap.settle();
      const views = await waitFinished(url, KEY, [...committed.keys()], Date.now() + PHASE_MS);
      const answers = flap.ledger.answers;
      await inLanes([...committed.keys()], IN_FLIGHT, async (id) => {
        expect(views.get(id)?.status, id).toBe("done");
        const raw = await fetch(`${url}/v1/queue/${id}/result`, {
          headers: { authorization: `Bearer ${KEY}` },
        });
        // The stored result is the cloud's answer byte for byte.
        expect(await raw.text(), id).toBe(answers.get(id));
      });

      // A clean stop, then the file itself: every row done, none queued or in flight, none extra.
      const last = gateway as CliProcess;
      last.child.kill("SIGTERM");
      expect(await last.exited(15_000)).toBe(0);
      const final = readQueue(dbPath);
      expect(new Set(final.keys())).toEqual(new Set(committed.keys()));
      expect(new Set([...final.values()].map((r) => r.status))).toEqual(new Set(["done"]));
      expect(rowsAreSentRequests(final, sent)).toEqual([]);
      // Every keyed request ended acknowledged; the others acknowledged or cut off and given up.
      for (let i = 0; i < TOTAL; i += 2) expect(sent.acked.has(i), `request ${i}`).toBe(true);
      for (let i = 1; i < TOTAL; i += 2)
        expect(sent.acked.has(i) || sent.cut.has(i), `request ${i}`).toBe(true);

      const records = flap.chatRequests();
      const once = exactlyOnce(final, flap.ledger, records);
      const resends = judgeResends(records, kills, flap.cutByClose);
      const summary = {
        chaos: "queue-crash",
        profile: CHAOS_FULL ? "full" : "short",
        seed: SEED,
        requests: TOTAL,
        kills: kills.length,
        acknowledged: sent.acked.size,
        cutByKills: sent.cut.size,
        cutThenAcknowledgedByKey: [...sent.cut.keys()].filter((i) => sent.acked.has(i)).length,
        cutButCommitted: final.size - sent.acked.size,
        committed: final.size,
        lost: once.lost.length,
        executedTwice: once.duplicated.length,
        inflightAtKills: kills.map((k) => k.inflight.size),
        cloudLives: flap.lives.length,
        cloudRequests: records.length,
        cloudErrors: records.filter((r) => r.idempotency === undefined).length,
        cloudDropped: records.filter((r) => r.outcome === "dropped").length,
        replayed: records.filter((r) => r.idempotency === "replayed").length,
        resent: resends.resent,
        resendReasons: resends.reasons,
        seconds: Math.round((Date.now() - startedMs) / 1000),
      };
      console.info(JSON.stringify(summary));
      expect(once).toEqual({ lost: [], duplicated: [], foreign: [] });
      const timeline = `kills ${kills.map((k) => `${k.atMs}..${k.restartMs}`)}; cloud closes ${flap.closedAtMs}`;
      expect(resends.unexplained, timeline).toEqual([]);
      expect(resends.notReplayed).toEqual([]);
      // The chaos happened: kills mid-delivery cut off executed answers, the cloud failed and cut answers.
      expect(summary.replayed).toBeGreaterThan(0);
      expect(resends.reasons.kill + resends.reasons.cut).toBeGreaterThan(0);
      expect(summary.cloudLives).toBeGreaterThanOrEqual(2);
      expect(summary.cloudErrors).toBeGreaterThan(0);
      expect(summary.cloudDropped).toBeGreaterThan(0);
    },
    (CHAOS_FULL ? 3_600 : 180) * 1_000,
  );
});
