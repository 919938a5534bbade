import type { Logger } from "../logger.js";
import type { QueueLane, QueueStore } from "./store.js";
import type { QueueItem } from "./types.js";

export interface LaneWorkerOptions {
  store: QueueStore;
  logger: Logger;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** A lease longer than any delivery can take; an expired one is reclaimed. */
  leaseMs: number;
  /** Longest sleep between looks at the queue. */
  pollMs: number;
  /** Wall-clock ms, as the store keeps. */
  now?: () => number;
}

/**
 * The claim loop one lane of the queue shares: wakes on an enqueue (or a subclass's event), leases
 * due items up to the concurrency, delivers each, and sleeps until the next item is due or
 * `pollMs`. Subclasses deliver; `stop` aborts deliveries in flight and waits for them.
 */
export abstract class LaneWorker {
  protected readonly now: () => number;
  protected running = false;
  protected readonly aborts = new Set<AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private pumping = false;
  private readonly idle: (() => void)[] = [];

  /** Lease owner for this process: leases held by any other owner are from a dead process. */
  abstract readonly owner: string;

  constructor(
    private readonly lane: QueueLane,
    /** Names this worker in the log. */
    private readonly label: string,
    private readonly base: LaneWorkerOptions,
  ) {
    this.now = base.now ?? Date.now;
  }

  protected abstract deliver(item: QueueItem): Promise<void>;

  /** Whether items may be claimed now; the worker is woken when this turns true. */
  protected mayClaim(): boolean {
    return true;
  }

  /** Runs before each round of claims. */
  protected beforeClaims(): void {}

  protected startPumping(): void {
    this.running = true;
    this.base.store.on("enqueued", this.wake);
    this.wake();
  }

  /** Stops claiming, aborts deliveries in flight (their items go back untried) and waits for them. */
  protected async stopPumping(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.base.store.off("enqueued", this.wake);
    for (const a of this.aborts) a.abort();
    if (this.inflight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  readonly wake = (): void => {
    if (!this.running) return;
    clearTimeout(this.timer);
    // Next turn: an enqueue's commit or a link change should not run deliveries inside its caller.
    this.timer = setTimeout(() => this.pump(), 0);
    this.timer.unref();
  };

  private pump(): void {
    if (!this.running || this.pumping) return;
    this.pumping = true;
    const { store, logger, concurrency, leaseMs } = this.base;
    try {
      this.beforeClaims();
      while (this.running && this.inflight < concurrency && this.mayClaim()) {
        const items = store.claimDue(this.owner, concurrency - this.inflight, leaseMs, this.lane);
        if (items.length === 0) break;
        for (const item of items) {
          this.inflight++;
          this.deliver(item)
            .catch((error: unknown) => {
              // A failure on this side (a full disk, a bug): the lease lapses and the item is
              // reclaimed; the process must not go down with it.
              logger.error({ err: error, id: item.id }, `${this.label}: delivery bookkeeping failed`);
            })
            .finally(() => {
              this.inflight--;
              if (this.inflight === 0) for (const resolve of this.idle.splice(0)) resolve();
              this.pump();
            });
        }
      }
    } catch (error) {
      logger.error({ err: error }, `${this.label}: claiming failed`);
    } finally {
      this.pumping = false;
      this.scheduleNext();
    }
  }

  private scheduleNext(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    const { store, concurrency, pollMs } = this.base;
    // A due item cannot be claimed while claims wait or every slot is busy, and both ending wake
    // the worker: timing the sleep to it would spin.
    const blocked = this.inflight >= concurrency || !this.mayClaim();
    const due = blocked ? undefined : store.nextDueAtMs(this.lane);
    const wait = due === undefined ? pollMs : Math.min(pollMs, Math.max(0, due - this.now()));
    this.timer = setTimeout(() => this.pump(), wait);
    this.timer.unref();
  }
}
