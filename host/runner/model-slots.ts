/**
 * A model's admission control: at most `sequences` generations run at once (one per context
 * sequence); up to `maxQueue` more wait in arrival order; beyond that a request is turned away at once
 * so the router can try another target instead of piling up on a busy device.
 */
export type SlotRefusal = "full" | "aborted";

export class SlotRefusedError extends Error {
  override readonly name = "SlotRefusedError";
  constructor(readonly reason: SlotRefusal) {
    super(reason === "full" ? "queue full" : "aborted while queued");
  }
}

interface Waiter {
  enqueuedMs: number;
  grant: (waitMs: number) => void;
  fail: (error: Error) => void;
}

export class ModelSlots {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly sequences: number,
    readonly maxQueue: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Resolves with the time spent waiting once a sequence is free; call `release()` exactly once after. */
  acquire(signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.reject(new SlotRefusedError("aborted"));
    if (this.active < this.sequences && this.waiters.length === 0) {
      this.active++;
      return Promise.resolve(0);
    }
    if (this.waiters.length >= this.maxQueue) return Promise.reject(new SlotRefusedError("full"));
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new SlotRefusedError("aborted"));
      };
      const waiter: Waiter = {
        enqueuedMs: this.nowMs(),
        grant: (waitMs) => {
          signal.removeEventListener("abort", onAbort);
          resolve(waitMs);
        },
        fail: (error) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter: `active` stays the same.
    if (next) next.grant(this.nowMs() - next.enqueuedMs);
    else this.active = Math.max(0, this.active - 1);
  }

  /** Turns away everyone waiting (the runner died): they have not started, so the router may retry. */
  failWaiting(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }
}
