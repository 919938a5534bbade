import { describe, expect, it } from "vitest";
import type { CoreExports } from "../../host/core/exports.js";
import {
  AllowResult,
  Circuit,
  Core,
  clientHash,
  coreConfigSchema,
  Decision,
  Outcome,
  Reason,
  RetryClass,
  RouteFlag,
  TargetKind,
  Ticket,
} from "../../host/core/index.js";

const config = coreConfigSchema.parse({
  limiter: {
    capacity: 100,
    tiers: {
      free: { requestsPerMinute: 60, requestBurst: 2, tokensPerMinute: 6000 },
      pro: { requestsPerMinute: 600, requestBurst: 10, tokensPerMinute: 60000 },
    },
  },
  health: { failureThreshold: 2, openMs: 1000 },
  seed: 7,
});

const targets = [
  {
    kind: TargetKind.Local,
    contextTokens: 4096,
    capabilities: 0,
    taskMask: 1,
    memoryMb: 300,
    maxInflight: 2,
    loaded: true,
  },
  {
    kind: TargetKind.Cloud,
    contextTokens: 128000,
    capabilities: 0,
    taskMask: 31,
    memoryMb: 0,
    maxInflight: 0,
  },
];
const chat = {
  promptTokens: 100,
  maxTokens: 100,
  taskClass: 0,
  priority: 1,
  flags: RouteFlag.AllowCloud,
  capabilities: 0,
};

/** Raw exports of a Core's current instance, to corrupt its memory the way a core bug would. */
const rawOf = (core: Core) => (core as unknown as { x: CoreExports }).x;

describe("Core", () => {
  it("names tiers in declaration order and enforces each tier's burst", () => {
    const core = Core.load(config);
    expect(core.tierNames()).toEqual(["free", "pro"]);
    const free = core.tier("free") as number;
    const [lo, hi] = clientHash("key-a");
    expect(core.allow(lo, hi, free, 10, 0)).toBe(AllowResult.Allow);
    expect(core.remaining()).toBe(1);
    expect(core.allow(lo, hi, free, 10, 0)).toBe(AllowResult.Allow);
    expect(core.allow(lo, hi, free, 10, 0)).toBe(AllowResult.DenyRequests);
    expect(core.retryAfterMs()).toBeCloseTo(1000, 6);
    expect(core.stats.decisions().allow).toMatchObject({ allow: 2, deny_requests: 1 });
    expect(() => core.allow(lo, hi, 5, 1, 0)).toThrow(RangeError);
  });

  it("routes local first, then fails over to the cloud when the local circuit opens", () => {
    const core = Core.load(config);
    core.configureTargets(targets);
    expect(core.route(chat, 0)).toEqual({
      decision: Decision.Local,
      reason: Reason.BestScore,
      candidates: [0, 1],
    });
    for (let i = 0; i < 2; i++) {
      const ticket = core.targetStart(0, 10);
      expect(ticket).toBe(Ticket.Normal);
      core.targetEnd(0, ticket, Outcome.Error, 5, 10);
    }
    expect(core.circuit(0, 20)).toBe(Circuit.Open);
    expect(core.route(chat, 20)).toEqual({
      decision: Decision.Cloud,
      reason: Reason.OnlyCandidate,
      candidates: [1],
    });
    expect(core.circuit(0, 1010)).toBe(Circuit.HalfOpen);
  });

  it("runs the selftest on a scratch instance without touching live state", () => {
    const core = Core.load(config);
    const [lo, hi] = clientHash("key-b");
    core.allow(lo, hi, 0, 1, 0);
    expect(core.selftest()).toBe(0);
    expect(core.clients()).toBe(1);
    expect(core.memoryBytes()).toBeGreaterThan(0);
  });

  it("re-instantiates after a real trap, replays configuration and targets, and fails settle open", () => {
    const traps: string[] = [];
    const core = Core.load(config, { onTrap: (op) => traps.push(op) });
    core.configureTargets(targets);
    core.setCloudReachable(false);
    const [lo, hi] = clientHash("key-c");
    core.allow(lo, hi, 0, 1, 0);
    // Corrupt the client's stored tier so settle() reads far outside memory: a genuine wasm trap.
    const words = new Uint32Array(rawOf(core).memory.buffer);
    let at = -1;
    for (let i = 0; i + 2 < words.length; i += 2) {
      if (words[i] === lo && words[i + 1] === hi && words[i + 2] === 1) at = i + 2;
    }
    expect(at).toBeGreaterThan(0);
    words[at] = 100_000_000;
    expect(() => core.settle(lo, hi, 5, 1)).not.toThrow();
    expect(traps).toEqual(["settle"]);
    expect(core.stats.traps).toBe(1);
    // The new instance forgot the client but kept tiers, targets and the cloud flag.
    expect(core.clients()).toBe(0);
    expect(core.allow(lo, hi, 0, 1, 2)).toBe(AllowResult.Allow);
    expect(core.allow(lo, hi, 0, 1, 2)).toBe(AllowResult.Allow);
    expect(core.allow(lo, hi, 0, 1, 2)).toBe(AllowResult.DenyRequests);
    expect(core.route({ ...chat, promptTokens: 10_000 }, 2)).toMatchObject({
      decision: Decision.Reject,
      reason: Reason.CloudUnreachable,
    });
  });

  it("fails route closed with CoreFault when the core traps again after re-instantiation", () => {
    const core = Core.load(config);
    core.configureTargets(targets);
    const trap = () => {
      throw new WebAssembly.RuntimeError("unreachable");
    };
    // Make every instance's route trap: the first call and the retry on the new instance.
    const instantiate = (core as unknown as { instantiate: () => CoreExports }).instantiate.bind(core);
    (core as unknown as { instantiate: () => CoreExports }).instantiate = () => ({
      ...instantiate(),
      route: trap,
    });
    (core as unknown as { x: CoreExports }).x = { ...rawOf(core), route: trap };
    expect(core.route(chat, 0)).toEqual({
      decision: Decision.Reject,
      reason: Reason.CoreFault,
      candidates: [],
    });
    expect(core.stats.traps).toBe(2);
  });

  it("classifies statuses and spaces retries within the cap", () => {
    const core = Core.load(config);
    expect(core.retryClassify(503, 1)).toBe(RetryClass.Retry);
    expect(core.retryClassify(429, 1)).toBe(RetryClass.RateLimited);
    expect(core.retryClassify(400, 1)).toBe(RetryClass.Permanent);
    expect(core.retryClassify(503, config.retry.maxAttempts)).toBe(RetryClass.Dead);
    for (let attempt = 1; attempt < 30; attempt++) {
      const d = core.retryDelayMs(attempt);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(config.retry.capMs, config.retry.baseMs * 2 ** (attempt - 1)));
    }
    expect(core.retryDelayMs(1, 90_000)).toBe(90_000);
  });

  it("draws the same jitter from the same seed", () => {
    const a = Core.load(config);
    const b = Core.load(config);
    const seq = (c: Core) => Array.from({ length: 5 }, (_, i) => c.retryDelayMs(i + 3));
    expect(seq(a)).toEqual(seq(b));
  });

  it("hashes client identities to stable, distinct u32 pairs", () => {
    expect(clientHash("a")).toEqual(clientHash("a"));
    expect(clientHash("a")).not.toEqual(clientHash("b"));
    for (const v of clientHash("x")) expect(v >>> 0).toBe(v);
  });
});
