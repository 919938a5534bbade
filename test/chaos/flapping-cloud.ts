// A fake cloud on one fixed port that flaps: down (nothing listens, connections are refused), then
// up for a while, then closed again, every connection cut. Each life is a new fake with the same
// idempotency ledger, as a real cloud's store outlives its outages. While up, a share of the chat
// requests misbehave: 500, 429 with Retry-After, an answer cut off half-way (after the request was
// executed) or no answer at all. The pauses pace the chaos; nothing waits on them for a result:
// `until` is a barrier over every life's requests.

import { setTimeout as pause } from "node:timers/promises";
import type { IdempotencyLedger } from "../fakes/openai-idempotency.js";
import {
  type Behaviour,
  type FakeOpenAIUpstream,
  type RecordedRequest,
  startFakeOpenAIUpstream,
} from "../fakes/openai-upstream.js";
import { between } from "./chaos-profile.js";

export const CHAT = "/v1/chat/completions";

export interface FlappingOptions {
  port: number;
  apiKey: string;
  random: () => number;
  /** Ranges [lo, hi] in ms of the up and down phases. */
  upMs: readonly [number, number];
  downMs: readonly [number, number];
  /** Delay before each answer, so deliveries are in flight when a kill or a close comes. */
  firstByteDelayMs: number;
}

export interface FlappingCloud {
  readonly ledger: IdempotencyLedger;
  /** Every life of the cloud, in order. */
  readonly lives: readonly FakeOpenAIUpstream[];
  /** Wall-clock ms at which each life began to close. */
  readonly closedAtMs: readonly number[];
  /**
   * Requests still open when their life closed: the fake may mark such an answer completed (handed
   * to its socket) while the close destroys it before it reaches the gateway.
   */
  readonly cutByClose: ReadonlySet<RecordedRequest>;
  /** Starts flapping (the cloud is down until then). */
  start(): void;
  /** Resolves once `predicate` holds: checked on every request and outcome change of any life. */
  until(predicate: () => boolean): Promise<void>;
  /** True while the live cloud has executed a request whose answer has not left yet. */
  deliveryInFlight(): boolean;
  /** Stops flapping and leaves one well-behaved life up. */
  settle(): Promise<void>;
  /** Chat requests received by every life, in order of arrival. */
  chatRequests(): RecordedRequest[];
  close(): Promise<void>;
}

/** Misbehaviour for about one chat request in six, each kind at least once early in every life. */
function behavioursFor(random: () => number, firstByteDelayMs: number): Behaviour[] {
  const normal: Behaviour = { path: CHAT, firstByteDelayMs };
  const bad: Behaviour[] = [
    { path: CHAT, status: 500 },
    { path: CHAT, status: 429, retryAfterS: 1 },
    { path: CHAT, status: 502, errorBody: "<html>bad gateway</html>" },
    // Executed, then the connection is cut half-way through the answer.
    { path: CHAT, firstByteDelayMs, dropAfterChunks: 0 },
    // No answer until the gateway gives up or this life of the cloud ends.
    { path: CHAT, hang: true },
  ];
  const list: Behaviour[] = Array.from({ length: 36 }, () =>
    random() < 1 / 6 ? (bad[between(random, 0, bad.length - 1)] as Behaviour) : normal,
  );
  for (const b of bad) list.splice(between(random, 0, 12), 0, b);
  return list;
}

export function flappingCloud(o: FlappingOptions): FlappingCloud {
  let ledger: IdempotencyLedger | undefined;
  const lives: FakeOpenAIUpstream[] = [];
  const closedAtMs: number[] = [];
  const cutByClose = new Set<RecordedRequest>();
  let current: FakeOpenAIUpstream | undefined;
  const waiters = new Set<{ predicate: () => boolean; resolve: () => void }>();
  const stop = new AbortController();
  let loop: Promise<void> | undefined;

  const changed = () => {
    for (const w of waiters) {
      if (w.predicate()) {
        waiters.delete(w);
        w.resolve();
      }
    }
  };

  async function up(behaviours: Behaviour[]): Promise<void> {
    const fake = await startFakeOpenAIUpstream({ port: o.port, apiKey: o.apiKey, dedupe: ledger ?? true });
    ledger ??= fake.ledger;
    lives.push(fake);
    current = fake;
    fake.always({ path: CHAT, firstByteDelayMs: o.firstByteDelayMs });
    for (const b of behaviours) fake.next(b);
    // A predicate that never holds is called on every change of this life: a change listener.
    void fake.until(() => {
      changed();
      return false;
    });
    changed();
  }

  async function down(): Promise<void> {
    const fake = current;
    current = undefined;
    if (fake === undefined) return;
    closedAtMs.push(Date.now());
    for (const r of fake.requests) if (r.outcome === "open") cutByClose.add(r);
    await fake.close();
    changed();
  }

  const sleep = (range: readonly [number, number]) =>
    pause(between(o.random, range[0], range[1]), undefined, { signal: stop.signal }).then(
      () => true,
      () => false,
    );

  async function flap(): Promise<void> {
    for (;;) {
      if (!(await sleep(o.downMs))) return;
      await up(behavioursFor(o.random, o.firstByteDelayMs));
      if (!(await sleep(o.upMs))) return;
      await down();
    }
  }

  return {
    get ledger() {
      if (ledger === undefined) throw new Error("the cloud has not been up yet");
      return ledger;
    },
    lives,
    closedAtMs,
    cutByClose,
    start() {
      loop ??= flap();
    },
    until(predicate) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
    deliveryInFlight() {
      const requests = current?.requests ?? [];
      // Open requests are the recent ones; the scan stays short however long the life.
      for (let i = requests.length - 1; i >= Math.max(0, requests.length - 256); i--) {
        const r = requests[i] as RecordedRequest;
        if (r.outcome === "open" && r.idempotency === "executed") return true;
      }
      return false;
    },
    async settle() {
      stop.abort();
      await loop;
      // A fresh life: the last one may still hold misbehaviour queued for its next requests.
      await down();
      await up([]);
    },
    chatRequests() {
      return lives.flatMap((l) => l.requests.filter((r) => r.method === "POST" && r.path === CHAT));
    },
    async close() {
      stop.abort();
      await loop;
      await Promise.all(lives.map((l) => l.close().catch(() => undefined)));
    },
  };
}
