// Scores every target for one request and returns the decision, the reason and an ordered fallback
// list. Read-only: starting the request on a target is targetStart()'s job.

import {
  DECIDE_CLOUD, DECIDE_LOCAL, DECIDE_QUEUE, DECIDE_REJECT, ERR_RANGE, FLAG_ALLOW_CLOUD,
  FLAG_ALLOW_QUEUE, FLAG_CONTAINS_PII, FLAG_REQUIRE_CLOUD, FLAG_REQUIRE_LOCAL, FLAG_STREAM,
  KIND_CLOUD, OK, REASON_BEST_SCORE, REASON_FORCED_CLOUD, REASON_FORCED_LOCAL, REASON_NO_TARGET,
  REASON_ONLY_CANDIDATE, REASON_PII_LOCAL, REASON_PII_NO_LOCAL,
} from "./codes";
import { admits, errorRateAt } from "./health";
import {
  MAX_TARGETS, T_CAPS, T_CONTEXT, T_INFLIGHT, T_KIND, T_LATENCY, T_LOADED, T_MAX_INFLIGHT,
  T_MEM_MB, T_SAMPLED, T_TASKS, targetCount, targetPtr,
} from "./targets";

// Exclusion stages, in the order the checks run; a reject reports the furthest stage any target
// reached, as REASON_NO_TARGET + stage - 1.
const STAGE_ROUTE: i32 = 1; // kind excluded by the request's flags
const STAGE_PII: i32 = 2; // cloud target, request contains PII
const STAGE_CAPS: i32 = 3; // lacks a required capability
const STAGE_CONTEXT: i32 = 4; // prompt + max tokens exceed its context
const STAGE_MEMORY: i32 = 5; // local model not loaded and does not fit
const STAGE_UNREACHABLE: i32 = 6; // cloud target while the cloud is unreachable
const STAGE_CIRCUIT: i32 = 7; // circuit open or probes taken

const MAX_PRIORITY: i32 = 3;

let defaultLatencyMs: f64 = 1000.0;
let errorPenaltyMs: f64 = 10000.0;
// Cloud bias per priority 0..3, divided once here rather than on every route.
const CLOUD_BIAS: usize = memory.data(<i32>((MAX_PRIORITY + 1) * 8), 8);
let biasReady = false;
let loadPenaltyMs: f64 = 3000.0;
let mismatchPenaltyMs: f64 = 1500.0;
let saturatedPenaltyMs: f64 = 5000.0;

let cloudReachable: bool = true;
let memoryFreeMb: f64 = 1.0e15;

const ORDER: usize = memory.data(MAX_TARGETS * 4, 16); // i32 target indices, best first
const SCORES: usize = memory.data(MAX_TARGETS * 8, 16); // f64 score of ORDER[i]
let orderCount: i32 = 0;

export function routerConfigure(defaultLatency: f64, errorPenalty: f64, cloudPenalty: f64, loadPenalty: f64, mismatchPenalty: f64, saturatedPenalty: f64): i32 {
  if (!(defaultLatency >= 0.0) || !(errorPenalty >= 0.0) || !(cloudPenalty >= 0.0)) return ERR_RANGE;
  if (!(loadPenalty >= 0.0) || !(mismatchPenalty >= 0.0) || !(saturatedPenalty >= 0.0)) return ERR_RANGE;
  defaultLatencyMs = defaultLatency;
  errorPenaltyMs = errorPenalty;
  setCloudBias(cloudPenalty);
  loadPenaltyMs = loadPenalty;
  mismatchPenaltyMs = mismatchPenalty;
  saturatedPenaltyMs = saturatedPenalty;
  return OK;
}

function setCloudBias(cloudPenalty: f64): void {
  for (let i = 0; i <= MAX_PRIORITY; i++) store<f64>(CLOUD_BIAS + <usize>i * 8, cloudPenalty / <f64>(1 + i));
  biasReady = true;
}

export function setCloudReachable(reachable: i32): void {
  cloudReachable = reachable != 0;
}

export function setMemoryFreeMb(mb: f64): void {
  memoryFreeMb = mb;
}

/** 0 when target p may serve the request, else the stage at which it was excluded. */
function exclusion(p: usize, tokens: i64, flags: i32, needCaps: i32, now: f64): i32 {
  const cloud = load<i32>(p, T_KIND) == KIND_CLOUD;
  if (cloud) {
    if ((flags & FLAG_REQUIRE_LOCAL) != 0 || (flags & FLAG_ALLOW_CLOUD) == 0) return STAGE_ROUTE;
  } else if ((flags & FLAG_REQUIRE_CLOUD) != 0) {
    return STAGE_ROUTE;
  }
  if (cloud && (flags & FLAG_CONTAINS_PII) != 0) return STAGE_PII;
  if ((load<i32>(p, T_CAPS) & needCaps) != needCaps) return STAGE_CAPS;
  if (tokens > <i64>load<i32>(p, T_CONTEXT)) return STAGE_CONTEXT;
  if (!cloud && load<i32>(p, T_LOADED) == 0 && load<f64>(p, T_MEM_MB) > memoryFreeMb) return STAGE_MEMORY;
  if (cloud && !cloudReachable) return STAGE_UNREACHABLE;
  if (!admits(p, now)) return STAGE_CIRCUIT;
  return 0;
}

function score(p: usize, taskClass: i32, priority: i32, now: f64): f64 {
  const latency = load<i32>(p, T_SAMPLED) != 0 ? load<f64>(p, T_LATENCY) : defaultLatencyMs;
  const inflight = load<i32>(p, T_INFLIGHT);
  const maxInflight = load<i32>(p, T_MAX_INFLIGHT);
  let s = latency;
  if (maxInflight > 0 && inflight > 0) {
    s = latency * (1.0 + <f64>inflight / <f64>maxInflight);
    if (inflight >= maxInflight) s += saturatedPenaltyMs;
  }
  s += errorRateAt(p, now) * errorPenaltyMs;
  if (load<i32>(p, T_LOADED) == 0) s += loadPenaltyMs;
  if (taskClass >= 0 && taskClass < 32 && (load<i32>(p, T_TASKS) & (1 << taskClass)) == 0) s += mismatchPenaltyMs;
  if (load<i32>(p, T_KIND) == KIND_CLOUD) s += load<f64>(CLOUD_BIAS + <usize>priority * 8);
  return s;
}

/**
 * Routes one request. tokens = promptTokens + maxTokens must fit a target's context; needCaps are
 * capability bits it must offer; taskClass picks the task-affinity bit; priority 0..3 (clamped)
 * shrinks the cloud bias; flags are FLAG_*. Returns decision | reason << 8 | candidates << 16;
 * routeAt(i) gives the i-th candidate, best first, for decisions LOCAL and CLOUD.
 */
export function route(promptTokens: i32, maxTokens: i32, taskClass: i32, priority: i32, flags: i32, needCaps: i32, nowMs: f64): i32 {
  if (!biasReady) setCloudBias(2000.0);
  const tokens = <i64>(promptTokens > 0 ? promptTokens : 0) + <i64>(maxTokens > 0 ? maxTokens : 0);
  const prio = priority < 0 ? 0 : priority > MAX_PRIORITY ? MAX_PRIORITY : priority;
  let n = 0;
  let furthest = 0;
  let cloudWaiting = false;
  let piiExcluded = false;
  for (let t = 0; t < targetCount; t++) {
    const p = targetPtr(t);
    const stage = exclusion(p, tokens, flags, needCaps, nowMs);
    if (stage != 0) {
      if (stage > furthest) furthest = stage;
      if (stage == STAGE_PII) piiExcluded = true;
      if (stage >= STAGE_UNREACHABLE && load<i32>(p, T_KIND) == KIND_CLOUD) cloudWaiting = true;
      continue;
    }
    const s = score(p, taskClass, prio, nowMs);
    // Insertion keeps the list sorted by score, ties by index.
    let i = n;
    while (i > 0 && load<f64>(SCORES + <usize>(i - 1) * 8) > s) {
      store<f64>(SCORES + <usize>i * 8, load<f64>(SCORES + <usize>(i - 1) * 8));
      store<i32>(ORDER + <usize>i * 4, load<i32>(ORDER + <usize>(i - 1) * 4));
      i--;
    }
    store<f64>(SCORES + <usize>i * 8, s);
    store<i32>(ORDER + <usize>i * 4, t);
    n++;
  }
  orderCount = n;
  if (n > 0) {
    const best = targetPtr(load<i32>(ORDER));
    const decision = load<i32>(best, T_KIND) == KIND_CLOUD ? DECIDE_CLOUD : DECIDE_LOCAL;
    let reason = n == 1 ? REASON_ONLY_CANDIDATE : REASON_BEST_SCORE;
    if ((flags & FLAG_REQUIRE_LOCAL) != 0) reason = REASON_FORCED_LOCAL;
    else if ((flags & FLAG_REQUIRE_CLOUD) != 0) reason = REASON_FORCED_CLOUD;
    else if (piiExcluded) reason = REASON_PII_LOCAL;
    return decision | (reason << 8) | (n << 16);
  }
  // Personal data that kept the request off the cloud is the reason, however far a local target got:
  // the cloud could have served it, the rule forbade it.
  const reason = piiExcluded ? REASON_PII_NO_LOCAL : furthest == 0 ? REASON_NO_TARGET : REASON_NO_TARGET + furthest - 1;
  if (cloudWaiting && (flags & FLAG_ALLOW_QUEUE) != 0 && (flags & FLAG_STREAM) == 0) {
    return DECIDE_QUEUE | (reason << 8);
  }
  return DECIDE_REJECT | (reason << 8);
}

/** The i-th candidate of the last route(), best first; -1 past the end. */
export function routeAt(i: i32): i32 {
  if (i < 0 || i >= orderCount) return -1;
  return load<i32>(ORDER + <usize>i * 4);
}
