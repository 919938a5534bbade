/** The pure parts of the runner: per-model admission (sequences plus a bounded queue) and the memory budget. */
import { describe, expect, it } from "vitest";
import { type BudgetEntry, planEvictions } from "../../host/runner/memory-budget.js";
import { ModelSlots, SlotRefusedError } from "../../host/runner/model-slots.js";

const live = () => new AbortController().signal;

describe("ModelSlots", () => {
  it("admits up to `sequences` at once, queues up to maxQueue, and turns the next away as full", async () => {
    const slots = new ModelSlots(2, 1);
    await expect(slots.acquire(live())).resolves.toBe(0);
    await expect(slots.acquire(live())).resolves.toBe(0);
    const queued = slots.acquire(live());
    expect(slots.queued).toBe(1);
    await expect(slots.acquire(live())).rejects.toMatchObject({ reason: "full" });
    slots.release();
    await expect(queued).resolves.toBeGreaterThanOrEqual(0);
    expect(slots.running).toBe(2);
    expect(slots.queued).toBe(0);
  });

  it("hands a freed sequence to waiters in arrival order", async () => {
    const slots = new ModelSlots(1, 3);
    await slots.acquire(live());
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => slots.acquire(live()).then(() => order.push(n)));
    for (let i = 0; i < 3; i++) {
      slots.release();
      await waiters[i];
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it("takes an aborted waiter out of the queue and rejects it as aborted", async () => {
    const slots = new ModelSlots(1, 2);
    await slots.acquire(live());
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(SlotRefusedError);
    await expect(waiting).rejects.toMatchObject({ reason: "aborted" });
    expect(slots.queued).toBe(0);
    slots.release();
    expect(slots.running).toBe(0);
  });

  it("fails every waiter at once when told the runner died, and keeps running counts", async () => {
    const slots = new ModelSlots(1, 2);
    await slots.acquire(live());
    const waiting = [slots.acquire(live()), slots.acquire(live())];
    slots.failWaiting(new Error("runner exited"));
    for (const w of waiting) await expect(w).rejects.toThrow("runner exited");
    expect(slots.running).toBe(1);
  });
});

describe("planEvictions", () => {
  const entry = (id: string, memoryMb: number, lastUsedMs: number, busy = false): BudgetEntry => ({
    id,
    memoryMb,
    resident: true,
    busy,
    lastUsedMs,
  });

  it("evicts nothing when the model fits", () => {
    expect(planEvictions([entry("a", 100, 1)], "b", 100, 300)).toEqual({ ok: true, evict: [] });
  });

  it("evicts idle models least recently used first, only as many as needed", () => {
    const models = [entry("old", 100, 1), entry("mid", 100, 2), entry("new", 100, 3)];
    expect(planEvictions(models, "x", 150, 300)).toEqual({ ok: true, evict: ["old", "mid"] });
  });

  it("never evicts a busy model, and says which ones block", () => {
    const models = [entry("busy", 200, 1, true), entry("idle", 50, 2)];
    expect(planEvictions(models, "x", 100, 250)).toMatchObject({
      ok: false,
      reason: "busy",
      busyIds: ["busy"],
    });
  });

  it("refuses a model larger than the whole budget", () => {
    expect(planEvictions([], "huge", 500, 400)).toMatchObject({ ok: false, reason: "too_large" });
  });

  it("does not count the candidate itself against the budget", () => {
    expect(planEvictions([entry("x", 100, 1)], "x", 100, 100)).toEqual({ ok: true, evict: [] });
  });
});
