import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import type { CloudMonitor } from "../connectivity/cloud-monitor.js";
import { type Core, RetryClass, Ticket } from "../core/index.js";
import { ProviderError } from "../providers/types.js";
import { outcomeOf } from "../routing/executor.js";
import type { Target } from "../routing/targets.js";
import { LaneWorker, type LaneWorkerOptions } from "./lane-worker.js";
import type { QueueMetrics } from "./metrics.js";
import type { QueueItem } from "./types.js";

export interface SyncWorkerOptions extends LaneWorkerOptions {
  core: Core;
  /** Monotonic time for the core's health records. */
  clock: Clock;
  metrics: QueueMetrics;
  targets: readonly Target[];
  /** Paused while it reports the cloud unreachable; its return wakes the worker. */
  monitor?: CloudMonitor;
  /** Finished items and stored answers are forgotten after this long. */
  retentionMs: number;
}

const HOUSEKEEPING_MS = 30_000;

async function readBody(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * Delivers queued work: claims due items under a lease, sends each with `Idempotency-Key: <item
 * id>` so a receiver that honours it executes it once however often a cut-off delivery is re-sent,
 * stores the answer byte for byte, and on failure asks the core when to try again.
 */
export class SyncWorker extends LaneWorker {
  readonly owner = `w_${randomBytes(8).toString("hex")}`;
  private readonly byId: Map<string, Target>;
  private lastHousekeepingMs = 0;

  constructor(private readonly o: SyncWorkerOptions) {
    super("llm", "queue", o);
    this.byId = new Map(o.targets.map((t) => [t.id, t]));
  }

  start(): void {
    const reclaimed = this.o.store.reclaimLeases(this.owner);
    if (reclaimed > 0)
      this.o.logger.warn({ reclaimed }, "queue: reclaimed in-flight items of a previous run");
    this.o.monitor?.on("change", this.onLink);
    this.startPumping();
  }

  /** Stops claiming, aborts deliveries in flight (their items go back untried) and waits for them. */
  async stop(): Promise<void> {
    this.o.monitor?.off("change", this.onLink);
    await this.stopPumping();
  }

  private readonly onLink = (reachable: boolean): void => {
    if (reachable) this.wake();
  };

  /** Paused while the cloud is unreachable; its return wakes the worker. */
  protected override mayClaim(): boolean {
    return this.o.monitor?.reachable ?? true;
  }

  protected override beforeClaims(): void {
    this.housekeeping();
  }

  private housekeeping(): void {
    const now = this.now();
    if (now - this.lastHousekeepingMs < HOUSEKEEPING_MS) return;
    this.lastHousekeepingMs = now;
    this.o.store.reclaimLeases();
    this.o.store.expire(this.o.retentionMs);
    this.o.store.recount();
  }

  protected async deliver(item: QueueItem): Promise<void> {
    const { store, core, clock, metrics } = this.o;
    const target = this.byId.get(item.target);
    if (!target) {
      store.finish(item.id, this.owner, "failed", undefined, `target ${item.target} is not configured`);
      metrics.attempts.inc({ outcome: "failed" });
      return;
    }
    const ticket = core.targetStart(target.index, clock.nowMs());
    if (ticket === Ticket.Denied) {
      // The target's circuit is open: not an attempt; look again when it may half-open.
      store.release(item.id, this.owner, this.now() + 1_000);
      return;
    }
    const startedMs = clock.nowMs();
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      const res = await target.provider.call(
        item.endpoint as "chat/completions",
        JSON.parse(item.payload.toString("utf8")),
        {
          signal: abort.signal,
          requestId: item.id,
          headers: { "idempotency-key": item.id },
        },
      );
      const body = await readBody(res.body);
      core.targetEnd(target.index, ticket, 0, clock.nowMs() - startedMs, clock.nowMs());
      if (target.kind === "cloud") this.o.monitor?.reportSuccess();
      const contentType = res.headers["content-type"] ?? "application/json";
      if (store.finish(item.id, this.owner, "done", { status: res.status, contentType, body })) {
        metrics.attempts.inc({ outcome: "delivered" });
        metrics.deliverySeconds.observe((this.now() - item.createdAtMs) / 1000);
      }
    } catch (error) {
      const e =
        error instanceof ProviderError
          ? error
          : new ProviderError("protocol", String(error), { cause: error });
      core.targetEnd(target.index, ticket, outcomeOf(e), clock.nowMs() - startedMs, clock.nowMs());
      if (e.kind === "aborted" && !this.running) {
        store.release(item.id, this.owner, this.now());
        return;
      }
      if (target.kind === "cloud") {
        if (e.kind === "connect" || e.kind === "timeout") this.o.monitor?.reportFailure();
        else if (e.kind === "http") this.o.monitor?.reportSuccess();
      }
      this.settleFailure(item, e);
    } finally {
      this.aborts.delete(abort);
    }
  }

  private settleFailure(item: QueueItem, e: ProviderError): void {
    const { store, core, metrics, logger } = this.o;
    if (e.kind === "connect") {
      // The upstream never saw it: not an attempt, so a flaky link cannot dead-letter an item.
      const delayMs = core.retryDelayMs(Math.max(1, item.attempts), 0);
      store.release(item.id, this.owner, this.now() + delayMs);
      metrics.attempts.inc({ outcome: "unreachable" });
      return;
    }
    const status = e.kind === "http" ? (e.details.status ?? 0) : 0;
    const cls = core.retryClassify(status, item.attempts);
    const error = `${e.kind}${status ? ` ${status}` : ""}: ${e.message}`;
    const result =
      e.kind === "http"
        ? { status, contentType: "application/json", body: Buffer.from(e.details.body ?? "") }
        : undefined;
    if (cls === RetryClass.Permanent) {
      store.finish(item.id, this.owner, "failed", result, error);
      metrics.attempts.inc({ outcome: "failed" });
      logger.warn({ id: item.id, status, attempts: item.attempts }, "queue: permanent failure");
    } else if (cls === RetryClass.Dead) {
      store.finish(item.id, this.owner, "dead", result, error);
      metrics.attempts.inc({ outcome: "dead" });
      logger.error(
        { id: item.id, attempts: item.attempts, error },
        "queue: attempts exhausted, dead-lettered",
      );
    } else {
      const delayMs = core.retryDelayMs(item.attempts, e.details.retryAfterMs ?? 0);
      store.reschedule(item.id, this.owner, this.now() + delayMs, error);
      metrics.attempts.inc({ outcome: cls === RetryClass.RateLimited ? "rate_limited" : "retry" });
    }
  }
}
