// Target health and routing as a specification over plain objects.

import { exp2neg } from "./numeric.js";

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const MAX_TARGETS = 32;

interface Target {
  kind: number;
  context: number;
  caps: number;
  tasks: number;
  memMb: number;
  maxInflight: number;
  loaded: boolean;
  inflight: number;
  circuit: number;
  fails: number;
  probes: number;
  reopens: number;
  latency: number | undefined;
  errW: number;
  okW: number;
  decayedAt: number;
  openUntil: number;
}

const fresh = (): Target => ({
  kind: 0,
  context: 0,
  caps: 0,
  tasks: 0,
  memMb: 0,
  maxInflight: 0,
  loaded: false,
  inflight: 0,
  circuit: CLOSED,
  fails: 0,
  probes: 0,
  reopens: 0,
  latency: undefined,
  errW: 0,
  okW: 0,
  decayedAt: 0,
  openUntil: 0,
});

export class ReferenceTargets {
  private t: Target[] = [];
  private h = {
    alpha: 0.2,
    halfLife: 30000,
    prior: 2,
    failures: 5,
    openRate: 0.5,
    volume: 10,
    openMs: 5000,
    maxOpenMs: 60000,
    probes: 1,
  };
  private perHalfLife = 1 / 30000;
  private r = { latency: 1000, error: 10000, cloud: 2000, load: 3000, mismatch: 1500, saturated: 5000 };
  private cloudReachable = true;
  private memoryFreeMb = 1e15;
  private order: number[] = [];

  targetsInit(count: number): number {
    if (count < 0 || count > MAX_TARGETS) return -1;
    this.t = Array.from({ length: count }, fresh);
    return 0;
  }

  targetConfigure(
    i: number,
    kind: number,
    context: number,
    caps: number,
    tasks: number,
    memMb: number,
    maxInflight: number,
  ): number {
    if (!this.t[i]) return -1;
    if (kind !== 0 && kind !== 1) return -1;
    if (context < 0 || maxInflight < 0 || !(memMb >= 0)) return -1;
    this.t[i] = {
      ...fresh(),
      kind,
      context,
      caps: caps | 0,
      tasks: tasks | 0,
      memMb,
      maxInflight,
      loaded: kind === 1,
    };
    return 0;
  }

  targetSetLoaded(i: number, loaded: number): number {
    const t = this.t[i];
    if (!t) return -1;
    t.loaded = loaded !== 0;
    return 0;
  }

  targetInflight(i: number): number {
    return this.t[i]?.inflight ?? -1;
  }

  healthConfigure(
    alpha: number,
    halfLife: number,
    prior: number,
    failures: number,
    openRate: number,
    volume: number,
    openMs: number,
    maxOpenMs: number,
    probes: number,
  ): number {
    const ok =
      alpha > 0 &&
      alpha <= 1 &&
      halfLife > 0 &&
      prior >= 0 &&
      failures >= 1 &&
      openRate > 0 &&
      openRate <= 1 &&
      volume >= 0 &&
      openMs > 0 &&
      maxOpenMs >= openMs &&
      probes >= 1;
    if (!ok) return -1;
    this.h = { alpha, halfLife, prior, failures, openRate, volume, openMs, maxOpenMs, probes };
    this.perHalfLife = 1 / halfLife;
    return 0;
  }

  private errorRate(t: Target, now: number): number {
    const dt = now - t.decayedAt;
    if (t.errW === 0) return 0;
    const d = dt > 0 ? exp2neg(dt * this.perHalfLife) : 1;
    const e = t.errW * d;
    const total = e + t.okW * d + this.h.prior;
    return total > 0 ? e / total : 0;
  }

  private circuitAt(t: Target, now: number): number {
    return t.circuit === OPEN && now >= t.openUntil ? HALF_OPEN : t.circuit;
  }

  private open(t: Target, now: number): void {
    let period = this.h.openMs;
    for (let i = 0; i < t.reopens && period < this.h.maxOpenMs; i++) period *= 2;
    t.circuit = OPEN;
    t.openUntil = now + Math.min(period, this.h.maxOpenMs);
    t.probes = 0;
  }

  targetStart(i: number, now: number): number {
    const t = this.t[i];
    if (!t) return -1;
    if (t.circuit === OPEN) {
      if (now < t.openUntil) return 0;
      t.circuit = HALF_OPEN;
      t.probes = 0;
    }
    if (t.circuit === HALF_OPEN) {
      if (t.probes >= this.h.probes) return 0;
      t.probes++;
      t.inflight++;
      return 2;
    }
    t.inflight++;
    return 1;
  }

  targetEnd(i: number, ticket: number, outcome: number, latencyMs: number, now: number): number {
    const t = this.t[i];
    if (!t || (ticket !== 1 && ticket !== 2) || outcome < 0 || outcome > 4) return -1;
    if (t.inflight > 0) t.inflight--;
    const dt = now - t.decayedAt;
    if (dt > 0) {
      const d = exp2neg(dt * this.perHalfLife);
      t.errW *= d;
      t.okW *= d;
      t.decayedAt = now;
    }
    const failed = outcome === 1 || outcome === 2 || outcome === 3;
    if (outcome === 0 && latencyMs >= 0 && latencyMs <= 1e9) {
      t.latency = t.latency === undefined ? latencyMs : t.latency + this.h.alpha * (latencyMs - t.latency);
    }
    if (failed) {
      t.errW += 1;
      t.fails = Math.min(t.fails + 1, 0x7fffffff);
    } else {
      t.okW += 1;
      t.fails = 0;
    }
    if (ticket === 2) {
      if (t.probes > 0) t.probes--;
      if (t.circuit === HALF_OPEN) {
        if (failed) {
          t.reopens = Math.min(t.reopens + 1, 30);
          this.open(t, now);
        } else {
          t.circuit = CLOSED;
          t.reopens = 0;
          t.probes = 0;
        }
      }
    } else if (t.circuit === CLOSED && failed) {
      const volume = t.errW + t.okW;
      if (
        t.fails >= this.h.failures ||
        (volume >= this.h.volume && t.errW / (volume + this.h.prior) >= this.h.openRate)
      ) {
        t.reopens = 0;
        this.open(t, now);
      }
    }
    return t.circuit;
  }

  targetCircuit(i: number, now: number): number {
    const t = this.t[i];
    return t ? this.circuitAt(t, now) : -1;
  }

  targetLatencyMs(i: number): number {
    return this.t[i]?.latency ?? -1;
  }

  targetErrorRate(i: number, now: number): number {
    const t = this.t[i];
    return t ? this.errorRate(t, now) : -1;
  }

  routerConfigure(
    latency: number,
    error: number,
    cloud: number,
    load: number,
    mismatch: number,
    saturated: number,
  ): number {
    if (![latency, error, cloud, load, mismatch, saturated].every((v) => v >= 0)) return -1;
    this.r = { latency, error, cloud, load, mismatch, saturated };
    return 0;
  }

  setCloudReachable(reachable: number): void {
    this.cloudReachable = reachable !== 0;
  }

  setMemoryFreeMb(mb: number): void {
    this.memoryFreeMb = mb;
  }

  /** 0 when eligible, else the stage (1..7) of the first check that excludes it. */
  private exclusion(t: Target, tokens: number, flags: number, needCaps: number, now: number): number {
    const cloud = t.kind === 1;
    if (cloud ? flags & 1 || !(flags & 2) : flags & 32) return 1;
    if (cloud && flags & 8) return 2;
    if ((t.caps & needCaps) !== needCaps) return 3;
    if (tokens > t.context) return 4;
    if (!cloud && !t.loaded && t.memMb > this.memoryFreeMb) return 5;
    if (cloud && !this.cloudReachable) return 6;
    const c = this.circuitAt(t, now);
    const admits = c === CLOSED || (c === HALF_OPEN && (t.circuit === OPEN || t.probes < this.h.probes));
    return admits ? 0 : 7;
  }

  private score(t: Target, taskClass: number, prio: number, now: number): number {
    const latency = t.latency ?? this.r.latency;
    let s = latency;
    if (t.maxInflight > 0) {
      s = latency * (1 + t.inflight / t.maxInflight);
      if (t.inflight >= t.maxInflight) s += this.r.saturated;
    }
    s += this.errorRate(t, now) * this.r.error;
    if (!t.loaded) s += this.r.load;
    if (taskClass >= 0 && taskClass < 32 && (t.tasks & (1 << taskClass)) === 0) s += this.r.mismatch;
    if (t.kind === 1) s += this.r.cloud / (1 + prio);
    return s;
  }

  route(
    prompt: number,
    max: number,
    taskClass: number,
    priority: number,
    flags: number,
    needCaps: number,
    now: number,
  ): number {
    const tokens = Math.max(prompt, 0) + Math.max(max, 0);
    const prio = Math.min(Math.max(priority, 0), 3);
    const scored: { i: number; s: number }[] = [];
    let furthest = 0;
    let cloudWaiting = false;
    let piiExcluded = false;
    this.t.forEach((t, i) => {
      const stage = this.exclusion(t, tokens, flags, needCaps | 0, now);
      if (stage === 0) scored.push({ i, s: this.score(t, taskClass, prio, now) });
      furthest = Math.max(furthest, stage);
      if (stage === 2) piiExcluded = true;
      if (stage >= 6 && t.kind === 1) cloudWaiting = true;
    });
    scored.sort((a, b) => a.s - b.s || a.i - b.i);
    this.order = scored.map((c) => c.i);
    const n = this.order.length;
    if (n > 0) {
      const decision = this.t[this.order[0] as number]?.kind === 1 ? 1 : 0;
      let reason = n === 1 ? 2 : 1;
      if (flags & 1) reason = 3;
      else if (flags & 32) reason = 4;
      else if (piiExcluded) reason = 5;
      return decision | (reason << 8) | (n << 16);
    }
    const reason = piiExcluded ? 11 : furthest === 0 ? 10 : 10 + furthest - 1;
    return (cloudWaiting && flags & 4 && !(flags & 16) ? 2 : 3) | (reason << 8);
  }

  routeAt(i: number): number {
    return this.order[i] ?? -1;
  }
}
