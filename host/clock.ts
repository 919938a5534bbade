/** Monotonic milliseconds: the only time the policy core ever sees. Injected so tests can drive it. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => performance.now() };
