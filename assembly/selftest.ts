// A check of every part of the core that needs no host: `wasm-interp --run-all-exports` or
// `wasmtime run --invoke selftest` can run it on a device. It reconfigures the module, so run it on
// a fresh instance, before the host's own configuration.

import {
  ALLOW, CLASS_DEAD, CLASS_PERMANENT, CLASS_RATE_LIMITED, CLASS_RETRY, CLASS_SUCCESS, CLOSED,
  DECIDE_CLOUD, DECIDE_LOCAL, DECIDE_QUEUE, DECIDE_REJECT, DENY_CAPACITY, DENY_REQUESTS, DENY_TOKENS,
  FLAG_ALLOW_CLOUD, FLAG_ALLOW_QUEUE, FLAG_CONTAINS_PII, FLAG_STREAM, HALF_OPEN, KIND_CLOUD,
  KIND_LOCAL, OK, OPEN, OUTCOME_ERROR, OUTCOME_OK, REASON_CLOUD_UNREACHABLE, REASON_CONTEXT_TOO_LONG,
  REASON_PII_LOCAL, REASON_PII_NO_LOCAL, SETTLED, TICKET_DENIED, TICKET_NORMAL, TICKET_PROBE, UNKNOWN_CLIENT,
} from "./codes";
import { exp2neg } from "./decay";
import { healthConfigure, targetEnd, targetStart } from "./health";
import { prngSeed } from "./prng";
import { allow, limiterClients, limiterInit, limiterRetryAfterMs, limiterTier, settle } from "./rate-limiter";
import { retryClassify, retryConfigure, retryDelayMs } from "./retry";
import { route, routeAt, routerConfigure, setCloudReachable, setMemoryFreeMb } from "./router";
import { targetConfigure, targetSetLoaded, targetsInit } from "./targets";

function near(a: f64, b: f64): bool {
  return Math.abs(a - b) <= 1e-5 * Math.abs(b);
}

function checkDecay(): i32 {
  if (exp2neg(0.0) != 1.0 || exp2neg(64.0) != 0.0) return 1;
  if (!near(exp2neg(1.0), 0.5) || !near(exp2neg(2.5), 0.17677669529663687)) return 2;
  return 0;
}

function checkLimiter(): i32 {
  // 60 requests/min, burst 2; 600 tokens/min, burst 100.
  if (limiterTier(0, 60.0, 2.0, 600.0, 100.0) != OK) return 10;
  if (limiterInit(2, 1000.0) != OK) return 11;
  if (allow(1, 0, 0, 10.0, 0.0) != ALLOW || allow(1, 0, 0, 10.0, 0.0) != ALLOW) return 12;
  if (allow(1, 0, 0, 10.0, 0.0) != DENY_REQUESTS || !near(limiterRetryAfterMs(), 1000.0)) return 13;
  if (allow(1, 0, 0, 10.0, 1000.0) != ALLOW) return 14;
  // 90 tokens at 2000 ms (three charges of 10, 20 refilled): 95 waits 500 ms for 5 more, unless
  // an earlier estimate is settled lower.
  if (allow(1, 0, 0, 95.0, 2000.0) != DENY_TOKENS || !near(limiterRetryAfterMs(), 500.0)) return 15;
  if (settle(1, 0, -50.0, 2000.0) != SETTLED || settle(9, 9, 1.0, 2000.0) != UNKNOWN_CLIENT) return 16;
  if (allow(1, 0, 0, 95.0, 2000.0) != ALLOW) return 17;
  // Two busy clients fill the table; a third waits until one can be evicted.
  if (allow(2, 0, 0, 1.0, 2000.0) != ALLOW || allow(3, 0, 0, 1.0, 2000.0) != DENY_CAPACITY) return 18;
  if (allow(3, 0, 0, 1.0, 1.0e7) != ALLOW || limiterClients() != 1) return 19;
  return 0;
}

function checkHealthAndRouter(): i32 {
  if (healthConfigure(0.5, 1000.0, 2.0, 2, 0.5, 10.0, 100.0, 1000.0, 1) != OK) return 30;
  if (routerConfigure(1000.0, 10000.0, 2000.0, 3000.0, 1500.0, 5000.0) != OK) return 31;
  setCloudReachable(1);
  setMemoryFreeMb(1024.0);
  if (targetsInit(2) != OK) return 32;
  if (targetConfigure(0, KIND_LOCAL, 2048, 0, 1, 500.0, 2) != OK) return 33;
  if (targetConfigure(1, KIND_CLOUD, 100000, 0, 1, 0.0, 0) != OK) return 34;
  // Not loaded yet, the local model pays the load penalty and the cloud scores better.
  if ((route(100, 100, 0, 0, FLAG_ALLOW_CLOUD, 0, 0.0) & 0xff) != DECIDE_CLOUD) return 51;
  targetSetLoaded(0, 1);
  // Local first while it is healthy; PII keeps a request local; too long for local goes cloud.
  let r = route(100, 100, 0, 0, FLAG_ALLOW_CLOUD, 0, 0.0);
  if ((r & 0xff) != DECIDE_LOCAL || routeAt(0) != 0 || routeAt(1) != 1) return 35;
  r = route(100, 100, 0, 0, FLAG_ALLOW_CLOUD | FLAG_CONTAINS_PII, 0, 0.0);
  if ((r & 0xff) != DECIDE_LOCAL || ((r >> 8) & 0xff) != REASON_PII_LOCAL) return 36;
  r = route(4000, 100, 0, 0, FLAG_ALLOW_CLOUD, 0, 0.0);
  if ((r & 0xff) != DECIDE_CLOUD) return 37;
  r = route(4000, 100, 0, 0, FLAG_ALLOW_CLOUD | FLAG_CONTAINS_PII, 0, 0.0);
  if ((r & 0xff) != DECIDE_REJECT || ((r >> 8) & 0xff) != REASON_PII_NO_LOCAL) return 38;
  r = route(4000, 100, 0, 0, 0, 0, 0.0);
  if ((r & 0xff) != DECIDE_REJECT || ((r >> 8) & 0xff) != REASON_CONTEXT_TOO_LONG) return 52;
  // Two failures open the local circuit; traffic moves to the cloud.
  for (let i = 0; i < 2; i++) {
    if (targetStart(0, 10.0) != TICKET_NORMAL) return 39;
    targetEnd(0, TICKET_NORMAL, OUTCOME_ERROR, 5.0, 10.0);
  }
  if (targetStart(0, 50.0) != TICKET_DENIED) return 40;
  r = route(100, 100, 0, 0, FLAG_ALLOW_CLOUD, 0, 50.0);
  if ((r & 0xff) != DECIDE_CLOUD) return 41;
  // After the open period one probe goes through; its success closes the circuit.
  if (targetStart(0, 110.0) != TICKET_PROBE || targetStart(0, 110.0) != TICKET_DENIED) return 42;
  if (targetEnd(0, TICKET_PROBE, OUTCOME_OK, 5.0, 120.0) != CLOSED) return 43;
  // A failed probe reopens for twice as long.
  for (let i = 0; i < 2; i++) {
    targetStart(0, 200.0);
    targetEnd(0, TICKET_NORMAL, OUTCOME_ERROR, 5.0, 200.0);
  }
  if (targetStart(0, 300.0) != TICKET_PROBE) return 44;
  if (targetEnd(0, TICKET_PROBE, OUTCOME_ERROR, 5.0, 300.0) != OPEN) return 45;
  if (targetStart(0, 450.0) != TICKET_DENIED || targetStart(0, 500.0) != TICKET_PROBE) return 46;
  if (targetEnd(0, TICKET_PROBE, OUTCOME_OK, 5.0, 500.0) != CLOSED) return 47;
  // Cloud unreachable and no local: queue when allowed, never for a stream.
  setCloudReachable(0);
  r = route(4000, 100, 0, 0, FLAG_ALLOW_CLOUD | FLAG_ALLOW_QUEUE, 0, 600.0);
  if ((r & 0xff) != DECIDE_QUEUE || ((r >> 8) & 0xff) != REASON_CLOUD_UNREACHABLE) return 48;
  r = route(4000, 100, 0, 0, FLAG_ALLOW_CLOUD | FLAG_ALLOW_QUEUE | FLAG_STREAM, 0, 600.0);
  if ((r & 0xff) != DECIDE_REJECT) return 49;
  setCloudReachable(1);
  if (HALF_OPEN == CLOSED) return 50;
  return 0;
}

function checkRetry(): i32 {
  if (retryConfigure(100.0, 1000.0, 3) != OK) return 60;
  prngSeed(42, 7);
  for (let attempt = 1; attempt <= 10; attempt++) {
    let ceiling: f64 = 100.0;
    for (let i = 1; i < attempt; i++) ceiling *= 2.0;
    if (ceiling > 1000.0) ceiling = 1000.0;
    const d = retryDelayMs(attempt, 0.0);
    if (!(d >= 0.0 && d < ceiling)) return 61;
  }
  if (retryDelayMs(1, 5000.0) != 5000.0) return 62;
  if (retryClassify(200, 1) != CLASS_SUCCESS || retryClassify(503, 1) != CLASS_RETRY) return 63;
  if (retryClassify(429, 1) != CLASS_RATE_LIMITED || retryClassify(400, 1) != CLASS_PERMANENT) return 64;
  if (retryClassify(0, 3) != CLASS_DEAD || retryClassify(404, 3) != CLASS_PERMANENT) return 65;
  return 0;
}

/** 0 when every check passes, else the number of the first failed check. */
export function selftest(): i32 {
  let r = checkDecay();
  if (r == 0) r = checkLimiter();
  if (r == 0) r = checkHealthAndRouter();
  if (r == 0) r = checkRetry();
  return r;
}
