// The table of targets (local models and cloud endpoints): static configuration set by the host and
// the live state that health.ts keeps and router.ts reads. One 96-byte record per target.

import { ERR_RANGE, KIND_CLOUD, KIND_LOCAL, OK } from "./codes";

export const MAX_TARGETS: i32 = 32;
const STRIDE: usize = 96;
const TARGETS: usize = memory.data(<i32>(MAX_TARGETS * <i32>STRIDE), 16);

// Configuration.
export const T_KIND: usize = 0; // i32
export const T_CONTEXT: usize = 4; // i32, tokens
export const T_CAPS: usize = 8; // i32 capability bits
export const T_TASKS: usize = 12; // i32 bit per task class the target is good for
export const T_MEM_MB: usize = 16; // f64 memory needed to load
export const T_MAX_INFLIGHT: usize = 24; // i32, 0 = unbounded
export const T_LOADED: usize = 28; // i32
// Live state.
export const T_INFLIGHT: usize = 32; // i32
export const T_CIRCUIT: usize = 36; // i32
export const T_FAILS: usize = 40; // i32 consecutive failures
export const T_PROBES: usize = 44; // i32 probes in flight while half-open
export const T_REOPENS: usize = 48; // i32 failed probes in a row
export const T_SAMPLED: usize = 52; // i32 has a latency sample
export const T_LATENCY: usize = 56; // f64 EWMA, ms
export const T_ERR_W: usize = 64; // f64 decayed error weight
export const T_OK_W: usize = 72; // f64 decayed success weight
export const T_DECAYED_AT: usize = 80; // f64 ms
export const T_OPEN_UNTIL: usize = 88; // f64 ms

export let targetCount: i32 = 0;

@inline export function targetPtr(t: i32): usize {
  return TARGETS + <usize>t * STRIDE;
}

@inline export function validTarget(t: i32): bool {
  return t >= 0 && t < targetCount;
}

/** Declares `count` targets and clears every target's configuration and state. */
export function targetsInit(count: i32): i32 {
  if (count < 0 || count > MAX_TARGETS) return ERR_RANGE;
  memory.fill(TARGETS, 0, <usize>MAX_TARGETS * STRIDE);
  targetCount = count;
  return OK;
}

/**
 * Configures target t. kind: KIND_LOCAL or KIND_CLOUD; contextTokens: prompt plus completion it
 * accepts; capMask: capability bits it offers; taskMask: bit c set when good for task class c;
 * memNeedMb: memory to load it (local); maxInflight: concurrent requests before it counts as
 * saturated (0 = no limit). Resets the target's live state.
 */
export function targetConfigure(t: i32, kind: i32, contextTokens: i32, capMask: i32, taskMask: i32, memNeedMb: f64, maxInflight: i32): i32 {
  if (!validTarget(t)) return ERR_RANGE;
  if (kind != KIND_LOCAL && kind != KIND_CLOUD) return ERR_RANGE;
  if (contextTokens < 0 || maxInflight < 0 || !(memNeedMb >= 0.0)) return ERR_RANGE;
  const p = targetPtr(t);
  memory.fill(p, 0, STRIDE);
  store<i32>(p, kind, T_KIND);
  store<i32>(p, contextTokens, T_CONTEXT);
  store<i32>(p, capMask, T_CAPS);
  store<i32>(p, taskMask, T_TASKS);
  store<f64>(p, memNeedMb, T_MEM_MB);
  store<i32>(p, maxInflight, T_MAX_INFLIGHT);
  // Cloud endpoints need no loading.
  store<i32>(p, kind == KIND_CLOUD ? 1 : 0, T_LOADED);
  return OK;
}

/** Marks a local model loaded (1) or not (0). */
export function targetSetLoaded(t: i32, loaded: i32): i32 {
  if (!validTarget(t)) return ERR_RANGE;
  store<i32>(targetPtr(t), loaded != 0 ? 1 : 0, T_LOADED);
  return OK;
}

export function targetInflight(t: i32): i32 {
  if (!validTarget(t)) return ERR_RANGE;
  return load<i32>(targetPtr(t), T_INFLIGHT);
}
