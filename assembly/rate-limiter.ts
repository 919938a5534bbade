// Token buckets per client, two dimensions: requests and LLM tokens. Clients live in one
// open-addressing table (linear probing, backward-shift deletion) placed after the static data and
// sized once by limiterInit(); the per-request path never allocates.

import {
  ALLOW, DENY_CAPACITY, DENY_REQUESTS, DENY_TOKENS, ERR_MEMORY, ERR_NOT_READY, ERR_RANGE, OK,
  SETTLED, UNKNOWN_CLIENT,
} from "./codes";

export const MAX_TIERS: i32 = 8;
const MS_PER_MINUTE: f64 = 60000.0;

// Tier table: 4 f64 per tier (request rate per ms, request burst, token rate per ms, token burst).
const TIER_STRIDE: usize = 32;
const TIERS: usize = memory.data(<i32>(MAX_TIERS * <i32>TIER_STRIDE), 16);

// Client entry, 40 bytes: keyLo u32 | keyHi u32 | tier+1 u32 (0 = empty) | pad | lastMs f64 |
// requests f64 | tokens f64.
const ENTRY: usize = 40;
const E_LO: usize = 0;
const E_HI: usize = 4;
const E_TIER: usize = 8;
const E_LAST: usize = 16;
const E_REQ: usize = 24;
const E_TOK: usize = 32;

let table: usize = 0;
let slots: u32 = 0;
let mask: u32 = 0;
let count: i32 = 0;
let capacity: i32 = 0;
let tierCount: i32 = 0;
let idleMs: f64 = 0.0;
let sweepAfterMs: f64 = 0.0;

// Results of the last allow() for the host to read.
let retryAfterMs: f64 = 0.0;
let remaining: f64 = 0.0;
let resetMs: f64 = 0.0;

@inline function tierPtr(tier: i32): usize {
  return TIERS + <usize>tier * TIER_STRIDE;
}

@inline function entryPtr(slot: u32): usize {
  return table + <usize>slot * ENTRY;
}

@inline function home(lo: u32, hi: u32): u32 {
  let h = (lo * 0x9e3779b1) ^ hi;
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  return h & mask;
}

/** Sets one tier's limits. A rate of 0 lifts that dimension's limit. */
export function limiterTier(tier: i32, requestsPerMinute: f64, requestBurst: f64, tokensPerMinute: f64, tokenBurst: f64): i32 {
  if (tier < 0 || tier >= MAX_TIERS) return ERR_RANGE;
  if (!(requestsPerMinute >= 0.0) || !(tokensPerMinute >= 0.0)) return ERR_RANGE;
  if (!(requestBurst >= 1.0) || !(tokenBurst >= 1.0)) return ERR_RANGE;
  const p = tierPtr(tier);
  store<f64>(p, requestsPerMinute / MS_PER_MINUTE, 0);
  store<f64>(p, requestBurst, 8);
  store<f64>(p, tokensPerMinute / MS_PER_MINUTE, 16);
  store<f64>(p, tokenBurst, 24);
  if (tier >= tierCount) tierCount = tier + 1;
  return OK;
}

// A dimension drained to its floor (-burst) refills within 2 * burst / rate; an entry idle longer is
// indistinguishable from a new one, so evicting it changes no decision. The margin absorbs rounding.
function fullRefillMs(rate: f64, burst: f64): f64 {
  return rate > 0.0 ? (2.0 * burst / rate) * 1.001 + 1.0 : 0.0;
}

/**
 * Allocates the client table for `clientCapacity` clients (after the tiers are set) and forgets
 * every client. Returns OK, ERR_RANGE or ERR_MEMORY when memory cannot grow.
 */
export function limiterInit(clientCapacity: i32, clientIdleMs: f64): i32 {
  if (clientCapacity < 1 || clientCapacity > 4_000_000 || !(clientIdleMs > 0.0)) return ERR_RANGE;
  if (tierCount == 0) return ERR_NOT_READY;
  // Load factor at most 3/4.
  let n: u32 = 16;
  while (<u64>n * 3 < <u64>clientCapacity * 4) n <<= 1;
  const base = (__heap_base + 15) & ~<usize>15;
  const end = base + <usize>n * ENTRY;
  const havePages = memory.size();
  const needPages = <i32>((end + 0xffff) >>> 16);
  if (needPages > havePages && memory.grow(needPages - havePages) < 0) return ERR_MEMORY;
  memory.fill(base, 0, <usize>n * ENTRY);
  table = base;
  slots = n;
  mask = n - 1;
  count = 0;
  capacity = clientCapacity;
  sweepAfterMs = 0.0;
  let idle = clientIdleMs;
  for (let t = 0; t < tierCount; t++) {
    const p = tierPtr(t);
    const r = fullRefillMs(load<f64>(p, 0), load<f64>(p, 8));
    const k = fullRefillMs(load<f64>(p, 16), load<f64>(p, 24));
    if (r > idle) idle = r;
    if (k > idle) idle = k;
  }
  idleMs = idle;
  return OK;
}

/** Slot holding the client, or -1. */
function find(lo: u32, hi: u32): i32 {
  let i = home(lo, hi);
  while (true) {
    const e = entryPtr(i);
    if (load<u32>(e, E_TIER) == 0) return -1;
    if (load<u32>(e, E_LO) == lo && load<u32>(e, E_HI) == hi) return <i32>i;
    i = (i + 1) & mask;
  }
  return -1;
}

function removeAt(slot: u32): void {
  let hole = slot;
  let j = slot;
  while (true) {
    j = (j + 1) & mask;
    const e = entryPtr(j);
    if (load<u32>(e, E_TIER) == 0) break;
    const h = home(load<u32>(e, E_LO), load<u32>(e, E_HI));
    // Move j back into the hole unless its home lies cyclically in (hole, j].
    const inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (!inRange) {
      memory.copy(entryPtr(hole), e, ENTRY);
      hole = j;
    }
  }
  store<u32>(entryPtr(hole), 0, E_TIER);
  count--;
}

// Evicts every idle client and notes the earliest time a remaining one can become idle, so a full
// table of busy clients is not rescanned on every new arrival.
function sweep(now: f64): void {
  let earliest = now;
  let i: u32 = 0;
  while (i < slots) {
    const e = entryPtr(i);
    if (load<u32>(e, E_TIER) != 0) {
      const last = load<f64>(e, E_LAST);
      if (now - last >= idleMs) {
        removeAt(i);
        continue; // an entry may have shifted into slot i
      }
      if (last < earliest) earliest = last;
    }
    i++;
  }
  sweepAfterMs = earliest + idleMs;
}

function refill(e: usize, p: usize, now: f64): void {
  const dt = now - load<f64>(e, E_LAST);
  if (!(dt > 0.0)) return;
  const rr = load<f64>(p, 0);
  if (rr > 0.0) {
    const burst = load<f64>(p, 8);
    const v = load<f64>(e, E_REQ) + dt * rr;
    store<f64>(e, v < burst ? v : burst, E_REQ);
  }
  const tr = load<f64>(p, 16);
  if (tr > 0.0) {
    const burst = load<f64>(p, 24);
    const v = load<f64>(e, E_TOK) + dt * tr;
    store<f64>(e, v < burst ? v : burst, E_TOK);
  }
  store<f64>(e, now, E_LAST);
}

/**
 * Admits one request of `estimatedTokens` for client (lo, hi) in `tier` at `nowMs`, charging both
 * buckets only when both have room. Returns ALLOW, DENY_REQUESTS, DENY_TOKENS or DENY_CAPACITY
 * (table full of busy clients), or ERR_RANGE / ERR_NOT_READY. limiterRetryAfterMs() then tells when
 * to try again; limiterRemaining() and limiterResetMs() describe the request bucket.
 */
export function allow(lo: u32, hi: u32, tier: i32, estimatedTokens: f64, nowMs: f64): i32 {
  if (tier < 0 || tier >= tierCount) return ERR_RANGE;
  if (slots == 0) return ERR_NOT_READY;
  const est = estimatedTokens > 0.0 ? estimatedTokens : 0.0;
  const p = tierPtr(tier);
  let slot = find(lo, hi);
  let e: usize;
  if (slot < 0) {
    if (count >= capacity) {
      if (nowMs >= sweepAfterMs) sweep(nowMs);
      if (count >= capacity) {
        retryAfterMs = sweepAfterMs - nowMs;
        remaining = 0.0;
        resetMs = retryAfterMs;
        return DENY_CAPACITY;
      }
    }
    let i = home(lo, hi);
    while (load<u32>(entryPtr(i), E_TIER) != 0) i = (i + 1) & mask;
    e = entryPtr(i);
    store<u32>(e, lo, E_LO);
    store<u32>(e, hi, E_HI);
    store<f64>(e, nowMs, E_LAST);
    store<f64>(e, load<f64>(p, 8), E_REQ);
    store<f64>(e, load<f64>(p, 24), E_TOK);
    count++;
  } else {
    e = entryPtr(<u32>slot);
    refill(e, p, nowMs);
  }
  store<u32>(e, <u32>tier + 1, E_TIER);

  const rr = load<f64>(p, 0);
  const rBurst = load<f64>(p, 8);
  const tr = load<f64>(p, 16);
  const tBurst = load<f64>(p, 24);
  let req = load<f64>(e, E_REQ);
  if (rr > 0.0 && req < 1.0) {
    retryAfterMs = (1.0 - req) / rr;
    remaining = 0.0;
    resetMs = (rBurst - req) / rr;
    return DENY_REQUESTS;
  }
  const tok = load<f64>(e, E_TOK);
  const need = est < tBurst ? est : tBurst;
  if (tr > 0.0 && tok < need) {
    retryAfterMs = (need - tok) / tr;
    remaining = rr > 0.0 ? Math.floor(req) : rBurst;
    resetMs = rr > 0.0 ? (rBurst - req) / rr : 0.0;
    return DENY_TOKENS;
  }
  if (rr > 0.0) {
    req -= 1.0;
    store<f64>(e, req, E_REQ);
  }
  if (tr > 0.0) {
    const left = tok - est;
    store<f64>(e, left > -tBurst ? left : -tBurst, E_TOK);
  }
  retryAfterMs = 0.0;
  remaining = rr > 0.0 ? Math.floor(req) : rBurst;
  resetMs = rr > 0.0 ? (rBurst - req) / rr : 0.0;
  return ALLOW;
}

/**
 * Corrects a client's token bucket once the real count is known: `deltaTokens` = actual - estimated
 * (negative refunds). The balance stays within [-burst, burst]. Returns SETTLED or UNKNOWN_CLIENT.
 */
export function settle(lo: u32, hi: u32, deltaTokens: f64, nowMs: f64): i32 {
  if (slots == 0) return ERR_NOT_READY;
  const slot = find(lo, hi);
  if (slot < 0) return UNKNOWN_CLIENT;
  const e = entryPtr(<u32>slot);
  const p = tierPtr(<i32>load<u32>(e, E_TIER) - 1);
  refill(e, p, nowMs);
  const tr = load<f64>(p, 16);
  if (tr > 0.0 && deltaTokens == deltaTokens) {
    const burst = load<f64>(p, 24);
    let v = load<f64>(e, E_TOK) - deltaTokens;
    if (v > burst) v = burst;
    if (v < -burst) v = -burst;
    store<f64>(e, v, E_TOK);
  }
  return SETTLED;
}

export function limiterRetryAfterMs(): f64 {
  return retryAfterMs;
}

export function limiterRemaining(): f64 {
  return remaining;
}

export function limiterResetMs(): f64 {
  return resetMs;
}

export function limiterClients(): i32 {
  return count;
}

/** Idle time after which a client may be evicted: the configured value or the full-refill time. */
export function limiterIdleMs(): f64 {
  return idleMs;
}
