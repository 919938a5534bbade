// The rate limiter as a specification: a Map of clients, no hashing, no table. Eviction is
// specified by what it must do (drop every idle client when a new one finds the table full, and not
// look again before the earliest remaining client can turn idle), not by how the table does it.

const MAX_TIERS = 8;

interface Tier {
  reqRate: number;
  reqBurst: number;
  tokRate: number;
  tokBurst: number;
}

interface Client {
  tier: number;
  last: number;
  req: number;
  tok: number;
}

export class ReferenceLimiter {
  private tiers: Tier[] = Array.from({ length: MAX_TIERS }, () => ({
    reqRate: 0,
    reqBurst: 0,
    tokRate: 0,
    tokBurst: 0,
  }));
  private tierCount = 0;
  private clients = new Map<string, Client>();
  private capacity = 0;
  private idleMs = 0;
  private sweepAfterMs = 0;
  private ready = false;
  retryAfterMs = 0;
  remaining = 0;
  resetMs = 0;

  limiterTier(tier: number, rpm: number, reqBurst: number, tpm: number, tokBurst: number): number {
    if (tier < 0 || tier >= MAX_TIERS) return -1;
    if (!(rpm >= 0) || !(tpm >= 0) || !(reqBurst >= 1) || !(tokBurst >= 1)) return -1;
    this.tiers[tier] = { reqRate: rpm / 60000, reqBurst, tokRate: tpm / 60000, tokBurst };
    if (tier >= this.tierCount) this.tierCount = tier + 1;
    return 0;
  }

  limiterInit(capacity: number, idleMs: number): number {
    if (capacity < 1 || capacity > 4_000_000 || !(idleMs > 0)) return -1;
    if (this.tierCount === 0) return -2;
    const refill = (rate: number, burst: number) => (rate > 0 ? ((2 * burst) / rate) * 1.001 + 1 : 0);
    let idle = idleMs;
    for (const t of this.tiers.slice(0, this.tierCount)) {
      idle = Math.max(idle, refill(t.reqRate, t.reqBurst), refill(t.tokRate, t.tokBurst));
    }
    this.clients.clear();
    this.capacity = capacity;
    this.idleMs = idle;
    this.sweepAfterMs = 0;
    this.ready = true;
    return 0;
  }

  private sweep(now: number): void {
    let earliest = now;
    for (const [key, c] of this.clients) {
      if (now - c.last >= this.idleMs) this.clients.delete(key);
      else if (c.last < earliest) earliest = c.last;
    }
    this.sweepAfterMs = earliest + this.idleMs;
  }

  private refill(c: Client, t: Tier, now: number): void {
    const dt = now - c.last;
    if (!(dt > 0)) return;
    if (t.reqRate > 0) c.req = Math.min(t.reqBurst, c.req + dt * t.reqRate);
    if (t.tokRate > 0) c.tok = Math.min(t.tokBurst, c.tok + dt * t.tokRate);
    c.last = now;
  }

  allow(lo: number, hi: number, tier: number, estimatedTokens: number, now: number): number {
    if (tier < 0 || tier >= this.tierCount) return -1;
    if (!this.ready) return -2;
    // biome-ignore lint/complexity/useMathMinMax: NaN must become 0, as in the core
    const est = estimatedTokens > 0 ? estimatedTokens : 0;
    const t = this.tiers[tier] as Tier;
    const key = `${lo >>> 0}:${hi >>> 0}`;
    let c = this.clients.get(key);
    if (!c) {
      if (this.clients.size >= this.capacity) {
        if (now >= this.sweepAfterMs) this.sweep(now);
        if (this.clients.size >= this.capacity) {
          this.retryAfterMs = this.sweepAfterMs - now;
          this.remaining = 0;
          this.resetMs = this.retryAfterMs;
          return 3;
        }
      }
      c = { tier, last: now, req: t.reqBurst, tok: t.tokBurst };
      this.clients.set(key, c);
    } else {
      this.refill(c, t, now);
    }
    c.tier = tier;
    const limitedReq = t.reqRate > 0;
    const limitedTok = t.tokRate > 0;
    if (limitedReq && c.req < 1) {
      this.retryAfterMs = (1 - c.req) / t.reqRate;
      this.remaining = 0;
      this.resetMs = (t.reqBurst - c.req) / t.reqRate;
      return 1;
    }
    const need = Math.min(est, t.tokBurst);
    if (limitedTok && c.tok < need) {
      this.retryAfterMs = (need - c.tok) / t.tokRate;
      this.remaining = limitedReq ? Math.floor(c.req) : t.reqBurst;
      this.resetMs = limitedReq ? (t.reqBurst - c.req) / t.reqRate : 0;
      return 2;
    }
    if (limitedReq) c.req -= 1;
    if (limitedTok) c.tok = Math.max(c.tok - est, -t.tokBurst);
    this.retryAfterMs = 0;
    this.remaining = limitedReq ? Math.floor(c.req) : t.reqBurst;
    this.resetMs = limitedReq ? (t.reqBurst - c.req) / t.reqRate : 0;
    return 0;
  }

  settle(lo: number, hi: number, deltaTokens: number, now: number): number {
    if (!this.ready) return -2;
    const c = this.clients.get(`${lo >>> 0}:${hi >>> 0}`);
    if (!c) return 1;
    const t = this.tiers[c.tier] as Tier;
    this.refill(c, t, now);
    if (t.tokRate > 0 && !Number.isNaN(deltaTokens)) {
      c.tok = Math.min(t.tokBurst, Math.max(-t.tokBurst, c.tok - deltaTokens));
    }
    return 0;
  }

  clientCount(): number {
    return this.clients.size;
  }

  effectiveIdleMs(): number {
    return this.idleMs;
  }
}
