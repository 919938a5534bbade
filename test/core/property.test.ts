import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CoreSurface, createReference } from "./reference/index.js";
import { freshWasm } from "./wasm.js";

// Each property runs RUNS random sequences of at least MIN_OPS operations against the WASM core and
// the reference model side by side and compares every answer bit for bit.
const RUNS = 50;
const MIN_OPS = 200;
const MAX_OPS = 300;
const REQUIRED_OPS = 10_000;

type Step = (core: CoreSurface) => readonly unknown[];

function agree(steps: readonly Step[]): void {
  const w = freshWasm();
  const r = createReference();
  steps.forEach((step, i) => {
    const got = step(w);
    const want = step(r);
    if (got.length !== want.length || got.some((v, k) => !Object.is(v, want[k]))) {
      throw new Error(`step ${i}: wasm ${JSON.stringify(got)} != reference ${JSON.stringify(want)}`);
    }
  });
}

const dt = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 60_000, noNaN: true }) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 3_000_000 }) },
);

/** Turns (op, delta-time) pairs into steps that share a clock. */
function timed<T>(ops: readonly [T, number][], run: (op: T, now: number) => Step): Step[] {
  let now = 0;
  return ops.map(([op, d]) => {
    now += d;
    return run(op, now);
  });
}

describe("WASM core agrees with the TypeScript reference", () => {
  it("rate limiter: every allow, settle, retry-after and eviction", () => {
    let total = 0;
    const tier = fc.record({
      rpm: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 600 })),
      reqBurst: fc.integer({ min: 1, max: 20 }),
      tpm: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 100_000 })),
      tokBurst: fc.integer({ min: 1, max: 20_000 }),
    });
    const config = fc.record({
      tiers: fc.array(tier, { minLength: 1, maxLength: 4 }),
      capacity: fc.integer({ min: 1, max: 24 }),
      idleMs: fc.integer({ min: 1, max: 120_000 }),
    });
    const client = fc.integer({ min: 0, max: 40 });
    const op = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.tuple(
          fc.constant("allow" as const),
          client,
          fc.nat(4),
          fc.integer({ min: 0, max: 25_000 }),
        ),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(
          fc.constant("settle" as const),
          client,
          fc.nat(4),
          fc.integer({ min: -5_000, max: 5_000 }),
        ),
      },
    );
    const ops = fc.array(fc.tuple(op, dt), { minLength: MIN_OPS, maxLength: MAX_OPS });
    fc.assert(
      fc.property(config, ops, (cfg, seq) => {
        const setup: Step[] = [
          (c) => cfg.tiers.map((t, i) => c.limiterTier(i, t.rpm, t.reqBurst, t.tpm, t.tokBurst)),
          (c) => [c.limiterInit(cfg.capacity, cfg.idleMs), c.limiterIdleMs()],
        ];
        const steps = timed(seq, ([kind, id, tierNo, amount], now): Step => {
          // Two u32 halves; the high half spans the sign bit to check it survives the boundary.
          const lo = (id * 2654435761) >>> 0;
          const hi = id % 3 === 0 ? 0x80000000 + id : id;
          if (kind === "allow") {
            return (c) => [
              c.allow(lo, hi, tierNo % (cfg.tiers.length + 1), amount, now),
              c.limiterRetryAfterMs(),
              c.limiterRemaining(),
              c.limiterResetMs(),
              c.limiterClients(),
            ];
          }
          return (c) => [c.settle(lo, hi, amount, now), c.limiterClients()];
        });
        total += steps.length;
        agree([...setup, ...steps]);
      }),
      { numRuns: RUNS },
    );
    expect(total).toBeGreaterThanOrEqual(REQUIRED_OPS);
  });

  it("health and router: every route, fallback order, ticket and circuit state", () => {
    let total = 0;
    const target = fc.record({
      kind: fc.integer({ min: 0, max: 1 }),
      context: fc.integer({ min: 256, max: 32_768 }),
      caps: fc.integer({ min: 0, max: 7 }),
      tasks: fc.integer({ min: 0, max: 31 }),
      memMb: fc.integer({ min: 0, max: 4_000 }),
      maxInflight: fc.integer({ min: 0, max: 4 }),
      loaded: fc.boolean(),
    });
    const config = fc.record({
      targets: fc.array(target, { minLength: 1, maxLength: 8 }),
      health: fc.tuple(
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.integer({ min: 100, max: 60_000 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 10, max: 5_000 }),
        fc.integer({ min: 5_000, max: 60_000 }),
        fc.integer({ min: 1, max: 3 }),
      ),
      router: fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 6, maxLength: 6 }),
    });
    const op = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.tuple(
          fc.constant("route" as const),
          fc.integer({ min: 0, max: 20_000 }),
          fc.integer({ min: 0, max: 8_000 }),
          fc.integer({ min: -1, max: 6 }),
          fc.integer({ min: -1, max: 5 }),
          fc.integer({ min: 0, max: 63 }),
          fc.integer({ min: 0, max: 7 }),
        ),
      },
      { weight: 4, arbitrary: fc.tuple(fc.constant("start" as const), fc.nat(8)) },
      {
        weight: 5,
        arbitrary: fc.tuple(
          fc.constant("end" as const),
          fc.nat(8),
          fc.integer({ min: 0, max: 4 }),
          fc.integer({ min: 1, max: 5_000 }),
        ),
      },
      { weight: 1, arbitrary: fc.tuple(fc.constant("cloud" as const), fc.boolean()) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("loaded" as const), fc.nat(8), fc.boolean()) },
      { weight: 1, arbitrary: fc.tuple(fc.constant("memory" as const), fc.integer({ min: 0, max: 4_000 })) },
    );
    const ops = fc.array(fc.tuple(op, dt), { minLength: MIN_OPS, maxLength: MAX_OPS });
    fc.assert(
      fc.property(config, ops, (cfg, seq) => {
        const n = cfg.targets.length;
        const [d, e, c, l, m, s] = cfg.router as [number, number, number, number, number, number];
        const setup: Step[] = [
          (x) => [x.healthConfigure(...cfg.health), x.routerConfigure(d, e, c, l, m, s), x.targetsInit(n)],
          (x) =>
            cfg.targets.map((t, i) =>
              x.targetConfigure(i, t.kind, t.context, t.caps, t.tasks, t.memMb, t.maxInflight),
            ),
          (x) => cfg.targets.map((t, i) => x.targetSetLoaded(i, t.loaded || t.kind === 1 ? 1 : 0)),
        ];
        // Tickets handed out so far, per target, so ends match starts as the host's would.
        const open: number[][] = Array.from({ length: n }, () => []);
        const state = (x: CoreSurface, now: number) =>
          cfg.targets.flatMap((_, i) => [
            x.targetCircuit(i, now),
            x.targetErrorRate(i, now),
            x.targetLatencyMs(i),
            x.targetInflight(i),
          ]);
        const steps = timed(seq, (o, now): Step => {
          switch (o[0]) {
            case "route": {
              const [, prompt, max, task, prio, flags, caps] = o;
              return (x) => {
                const packed = x.route(prompt, max, task, prio, flags, caps, now);
                const order = Array.from({ length: (packed >>> 16) & 0xff }, (_, i) => x.routeAt(i));
                return [packed, ...order, x.routeAt(order.length)];
              };
            }
            case "start": {
              const t = o[1] % n;
              // Both sides hand out the same ticket (checked below), so either may record it.
              let recorded = false;
              return (x) => {
                const ticket = x.targetStart(t, now);
                if (!recorded && ticket > 0) open[t]?.push(ticket);
                recorded = true;
                return [ticket, ...state(x, now)];
              };
            }
            case "end": {
              const t = o[1] % n;
              let ticket: number | undefined;
              let taken = false;
              return (x) => {
                if (!taken) ticket = open[t]?.shift();
                taken = true;
                if (ticket === undefined) return [...state(x, now)];
                return [x.targetEnd(t, ticket, o[2], o[3], now), ...state(x, now)];
              };
            }
            case "cloud":
              return (x) => {
                x.setCloudReachable(o[1] ? 1 : 0);
                return [];
              };
            case "loaded":
              return (x) => [x.targetSetLoaded(o[1] % n, o[2] ? 1 : 0)];
            case "memory":
              return (x) => {
                x.setMemoryFreeMb(o[1]);
                return [];
              };
          }
        });
        total += steps.length;
        agree([...setup, ...steps]);
      }),
      { numRuns: RUNS },
    );
    expect(total).toBeGreaterThanOrEqual(REQUIRED_OPS);
  });

  it("retry policy: every delay and classification from the same seed", () => {
    let total = 0;
    const config = fc.record({
      base: fc.integer({ min: 1, max: 5_000 }),
      capFactor: fc.integer({ min: 1, max: 1_000 }),
      attempts: fc.integer({ min: 1, max: 12 }),
      seed: fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })),
    });
    const status = fc.oneof(
      fc.constantFrom(0, 200, 201, 204, 400, 401, 404, 408, 409, 422, 425, 429, 500, 501, 502, 503, 504, 505),
      fc.integer({ min: 100, max: 599 }),
    );
    const op = fc.oneof(
      fc.tuple(
        fc.constant("delay" as const),
        fc.integer({ min: -2, max: 40 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600_000 })),
      ),
      fc.tuple(fc.constant("classify" as const), status, fc.integer({ min: 0, max: 14 })),
    );
    const ops = fc.array(op, { minLength: MIN_OPS, maxLength: MAX_OPS });
    fc.assert(
      fc.property(config, ops, (cfg, seq) => {
        const setup: Step[] = [
          (x) => {
            x.seed(cfg.seed[0], cfg.seed[1]);
            return [x.retryConfigure(cfg.base, cfg.base * cfg.capFactor, cfg.attempts), x.retryMaxAttempts()];
          },
        ];
        const steps = seq.map(
          (o): Step =>
            o[0] === "delay" ? (x) => [x.retryDelayMs(o[1], o[2])] : (x) => [x.retryClassify(o[1], o[2])],
        );
        total += steps.length;
        agree([...setup, ...steps]);
      }),
      { numRuns: RUNS },
    );
    expect(total).toBeGreaterThanOrEqual(REQUIRED_OPS);
  });
});
