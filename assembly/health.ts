// Target health: latency EWMA, an error rate whose weight halves every errorHalfLifeMs (so one
// error fades instead of starving a target), and a circuit breaker closed -> open -> half-open with
// a limited number of probes.

import {
  CLOSED, ERR_RANGE, HALF_OPEN, OK, OPEN, OUTCOME_ERROR, OUTCOME_OK, OUTCOME_RATE_LIMITED,
  OUTCOME_REJECTED, OUTCOME_TIMEOUT, TICKET_DENIED, TICKET_NORMAL, TICKET_PROBE,
} from "./codes";
import { exp2neg } from "./decay";
import {
  T_CIRCUIT, T_DECAYED_AT, T_ERR_W, T_FAILS, T_INFLIGHT, T_LATENCY, T_OK_W, T_OPEN_UNTIL, T_PROBES,
  T_REOPENS, T_SAMPLED, targetPtr, validTarget,
} from "./targets";

const MAX_REOPENS: i32 = 30;

let alpha: f64 = 0.2;
let halfLifeMs: f64 = 30000.0;
// Division is the slowest arithmetic on the routing path; decay multiplies by the inverse instead.
let perHalfLife: f64 = 1.0 / 30000.0;
let prior: f64 = 2.0;
let failureThreshold: i32 = 5;
let openErrorRate: f64 = 0.5;
let minVolume: f64 = 10.0;
let openMs: f64 = 5000.0;
let maxOpenMs: f64 = 60000.0;
let halfOpenProbes: i32 = 1;

export function healthConfigure(
  latencyAlpha: f64, errorHalfLifeMs: f64, errorPrior: f64, failures: i32, openRate: f64,
  volume: f64, firstOpenMs: f64, longestOpenMs: f64, probes: i32,
): i32 {
  if (!(latencyAlpha > 0.0 && latencyAlpha <= 1.0) || !(errorHalfLifeMs > 0.0) || !(errorPrior >= 0.0)) return ERR_RANGE;
  if (failures < 1 || !(openRate > 0.0 && openRate <= 1.0) || !(volume >= 0.0)) return ERR_RANGE;
  if (!(firstOpenMs > 0.0) || !(longestOpenMs >= firstOpenMs) || probes < 1) return ERR_RANGE;
  alpha = latencyAlpha;
  halfLifeMs = errorHalfLifeMs;
  perHalfLife = 1.0 / errorHalfLifeMs;
  prior = errorPrior;
  failureThreshold = failures;
  openErrorRate = openRate;
  minVolume = volume;
  openMs = firstOpenMs;
  maxOpenMs = longestOpenMs;
  halfOpenProbes = probes;
  return OK;
}

function decayTo(p: usize, now: f64): void {
  const dt = now - load<f64>(p, T_DECAYED_AT);
  if (!(dt > 0.0)) return;
  const d = exp2neg(dt * perHalfLife);
  store<f64>(p, load<f64>(p, T_ERR_W) * d, T_ERR_W);
  store<f64>(p, load<f64>(p, T_OK_W) * d, T_OK_W);
  store<f64>(p, now, T_DECAYED_AT);
}

/** Decayed error rate of the target's record at p as seen at `now`, without changing it. */
export function errorRateAt(p: usize, now: f64): f64 {
  const errW = load<f64>(p, T_ERR_W);
  if (errW == 0.0) return 0.0; // the common healthy case, and exactly what the formula gives
  const dt = now - load<f64>(p, T_DECAYED_AT);
  const d = dt > 0.0 ? exp2neg(dt * perHalfLife) : 1.0;
  const e = errW * d;
  const total = e + load<f64>(p, T_OK_W) * d + prior;
  return total > 0.0 ? e / total : 0.0;
}

/** Circuit state as seen at `now`: an open circuit whose period has run out reads half-open. */
export function circuitAt(p: usize, now: f64): i32 {
  const c = load<i32>(p, T_CIRCUIT);
  if (c == OPEN && now >= load<f64>(p, T_OPEN_UNTIL)) return HALF_OPEN;
  return c;
}

/** True when a request started at `now` would be let through. */
export function admits(p: usize, now: f64): bool {
  const c = circuitAt(p, now);
  if (c == CLOSED) return true;
  if (c == OPEN) return false;
  // Half-open: a stored OPEN that has just expired has no probes out yet.
  return load<i32>(p, T_CIRCUIT) == OPEN || load<i32>(p, T_PROBES) < halfOpenProbes;
}

function open(p: usize, now: f64): void {
  let period = openMs;
  const n = load<i32>(p, T_REOPENS);
  for (let i = 0; i < n && period < maxOpenMs; i++) period *= 2.0;
  if (period > maxOpenMs) period = maxOpenMs;
  store<i32>(p, OPEN, T_CIRCUIT);
  store<f64>(p, now + period, T_OPEN_UNTIL);
  store<i32>(p, 0, T_PROBES);
}

/**
 * Starts a request on target t. Returns TICKET_NORMAL, TICKET_PROBE (the circuit is half-open and
 * this request is one of its probes) or TICKET_DENIED (open, or every probe slot is taken).
 */
export function targetStart(t: i32, nowMs: f64): i32 {
  if (!validTarget(t)) return ERR_RANGE;
  const p = targetPtr(t);
  let c = load<i32>(p, T_CIRCUIT);
  if (c == OPEN) {
    if (nowMs < load<f64>(p, T_OPEN_UNTIL)) return TICKET_DENIED;
    c = HALF_OPEN;
    store<i32>(p, HALF_OPEN, T_CIRCUIT);
    store<i32>(p, 0, T_PROBES);
  }
  if (c == HALF_OPEN) {
    const probes = load<i32>(p, T_PROBES);
    if (probes >= halfOpenProbes) return TICKET_DENIED;
    store<i32>(p, probes + 1, T_PROBES);
    store<i32>(p, load<i32>(p, T_INFLIGHT) + 1, T_INFLIGHT);
    return TICKET_PROBE;
  }
  store<i32>(p, load<i32>(p, T_INFLIGHT) + 1, T_INFLIGHT);
  return TICKET_NORMAL;
}

/**
 * Ends a request started with `ticket`, recording its outcome (OUTCOME_*) and, for OUTCOME_OK, its
 * latency. Errors, timeouts and 429s count as failures; OUTCOME_REJECTED (the target answered but
 * refused the request itself) counts as a sign of health. Returns the circuit state afterwards.
 */
export function targetEnd(t: i32, ticket: i32, outcome: i32, latencyMs: f64, nowMs: f64): i32 {
  if (!validTarget(t)) return ERR_RANGE;
  if (ticket != TICKET_NORMAL && ticket != TICKET_PROBE) return ERR_RANGE;
  if (outcome < OUTCOME_OK || outcome > OUTCOME_REJECTED) return ERR_RANGE;
  const p = targetPtr(t);
  const inflight = load<i32>(p, T_INFLIGHT);
  if (inflight > 0) store<i32>(p, inflight - 1, T_INFLIGHT);
  decayTo(p, nowMs);
  const failed = outcome == OUTCOME_ERROR || outcome == OUTCOME_TIMEOUT || outcome == OUTCOME_RATE_LIMITED;
  // A latency outside [0, 1e9] ms is a host bug; averaging it in would poison the score.
  if (outcome == OUTCOME_OK && latencyMs >= 0.0 && latencyMs <= 1.0e9) {
    if (load<i32>(p, T_SAMPLED) != 0) {
      const m = load<f64>(p, T_LATENCY);
      store<f64>(p, m + alpha * (latencyMs - m), T_LATENCY);
    } else {
      store<f64>(p, latencyMs, T_LATENCY);
      store<i32>(p, 1, T_SAMPLED);
    }
  }
  let fails = load<i32>(p, T_FAILS);
  if (failed) {
    store<f64>(p, load<f64>(p, T_ERR_W) + 1.0, T_ERR_W);
    if (fails < 0x7fffffff) fails++;
  } else {
    store<f64>(p, load<f64>(p, T_OK_W) + 1.0, T_OK_W);
    fails = 0;
  }
  store<i32>(p, fails, T_FAILS);

  const c = load<i32>(p, T_CIRCUIT);
  if (ticket == TICKET_PROBE) {
    const probes = load<i32>(p, T_PROBES);
    if (probes > 0) store<i32>(p, probes - 1, T_PROBES);
    if (c == HALF_OPEN) {
      if (failed) {
        const r = load<i32>(p, T_REOPENS);
        store<i32>(p, r < MAX_REOPENS ? r + 1 : r, T_REOPENS);
        open(p, nowMs);
      } else {
        store<i32>(p, CLOSED, T_CIRCUIT);
        store<i32>(p, 0, T_REOPENS);
        store<i32>(p, 0, T_PROBES);
      }
    }
  } else if (c == CLOSED && failed) {
    const e = load<f64>(p, T_ERR_W);
    const volume = e + load<f64>(p, T_OK_W);
    if (fails >= failureThreshold || (volume >= minVolume && e / (volume + prior) >= openErrorRate)) {
      store<i32>(p, 0, T_REOPENS);
      open(p, nowMs);
    }
  }
  return load<i32>(p, T_CIRCUIT);
}

export function targetCircuit(t: i32, nowMs: f64): i32 {
  if (!validTarget(t)) return ERR_RANGE;
  return circuitAt(targetPtr(t), nowMs);
}

export function targetLatencyMs(t: i32): f64 {
  if (!validTarget(t)) return -1.0;
  const p = targetPtr(t);
  return load<i32>(p, T_SAMPLED) != 0 ? load<f64>(p, T_LATENCY) : -1.0;
}

export function targetErrorRate(t: i32, nowMs: f64): f64 {
  if (!validTarget(t)) return -1.0;
  return errorRateAt(targetPtr(t), nowMs);
}
