// Retry timing and outcome classification for queued deliveries: exponential backoff with full
// jitter, capped, never earlier than the upstream's Retry-After, dead-lettered after maxAttempts.

import { CLASS_DEAD, CLASS_PERMANENT, CLASS_RATE_LIMITED, CLASS_RETRY, CLASS_SUCCESS, ERR_RANGE, OK } from "./codes";
import { prngUnit } from "./prng";

let baseMs: f64 = 1000.0;
let capMs: f64 = 300000.0;
let maxAttempts: i32 = 8;

export function retryConfigure(base: f64, cap: f64, attempts: i32): i32 {
  if (!(base > 0.0) || !(cap >= base) || attempts < 1) return ERR_RANGE;
  baseMs = base;
  capMs = cap;
  maxAttempts = attempts;
  return OK;
}

/**
 * Delay before the next try after `attempt` failed tries (1 = the first try failed): uniform in
 * [0, min(cap, base * 2^(attempt-1))), raised to retryAfterMs when the upstream asked for longer.
 */
export function retryDelayMs(attempt: i32, retryAfterMs: f64): f64 {
  let ceiling = baseMs;
  for (let i = 1; i < attempt && ceiling < capMs; i++) ceiling *= 2.0;
  if (ceiling > capMs) ceiling = capMs;
  const delay = prngUnit() * ceiling;
  return retryAfterMs > delay ? retryAfterMs : delay;
}

/**
 * Classifies an HTTP status (0 = no response: network error or timeout) after `attempts` tries:
 * CLASS_SUCCESS, CLASS_RETRY, CLASS_RATE_LIMITED, CLASS_PERMANENT, or CLASS_DEAD when a retryable
 * outcome has used up maxAttempts.
 */
export function retryClassify(status: i32, attempts: i32): i32 {
  if (status >= 200 && status < 300) return CLASS_SUCCESS;
  let c = CLASS_PERMANENT;
  if (status == 429) c = CLASS_RATE_LIMITED;
  else if (status == 0 || status == 408 || status == 425 || status == 500 || status == 502 || status == 503 || status == 504) c = CLASS_RETRY;
  if (c != CLASS_PERMANENT && attempts >= maxAttempts) return CLASS_DEAD;
  return c;
}

export function retryMaxAttempts(): i32 {
  return maxAttempts;
}
