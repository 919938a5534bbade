import type { TargetKind } from "./codes.js";
import type { CoreConfig } from "./config.js";
import type { CoreExports } from "./exports.js";

export interface TargetSpec {
  kind: TargetKind;
  /** Prompt plus completion tokens the target accepts. */
  contextTokens: number;
  /** Capability bits the target offers. */
  capabilities: number;
  /** Bit c set when the target is good for TaskClass c. */
  taskMask: number;
  /** Memory needed to load a local model. */
  memoryMb: number;
  /** In-flight requests before it counts as saturated; 0 = no limit. */
  maxInflight: number;
  loaded?: boolean;
}

function check(what: string, code: number): void {
  if (code !== 0) throw new RangeError(`core: ${what} refused the configuration (code ${code})`);
}

/** Pushes the validated configuration into a fresh instance. */
export function applyConfig(x: CoreExports, config: CoreConfig, seed: readonly [number, number]): void {
  Object.values(config.limiter.tiers).forEach((t, i) => {
    const reqBurst = t.requestBurst ?? Math.max(1, t.requestsPerMinute);
    const tokBurst = t.tokenBurst ?? Math.max(1, t.tokensPerMinute);
    check(`tier ${i}`, x.limiterTier(i, t.requestsPerMinute, reqBurst, t.tokensPerMinute, tokBurst));
  });
  check("limiter", x.limiterInit(config.limiter.capacity, config.limiter.idleMs));
  const h = config.health;
  check(
    "health",
    x.healthConfigure(
      h.latencyAlpha,
      h.errorHalfLifeMs,
      h.errorPrior,
      h.failureThreshold,
      h.openErrorRate,
      h.minVolume,
      h.openMs,
      Math.max(h.openMs, h.maxOpenMs),
      h.halfOpenProbes,
    ),
  );
  const r = config.router;
  check(
    "router",
    x.routerConfigure(
      r.defaultLatencyMs,
      r.errorPenaltyMs,
      r.cloudPenaltyMs,
      r.loadPenaltyMs,
      r.mismatchPenaltyMs,
      r.saturatedPenaltyMs,
    ),
  );
  check(
    "retry",
    x.retryConfigure(
      config.retry.baseMs,
      Math.max(config.retry.baseMs, config.retry.capMs),
      config.retry.maxAttempts,
    ),
  );
  x.seed(seed[0], seed[1]);
}

export function applyTargets(x: CoreExports, targets: readonly TargetSpec[]): void {
  check("targets", x.targetsInit(targets.length));
  targets.forEach((t, i) => {
    check(
      `target ${i}`,
      x.targetConfigure(i, t.kind, t.contextTokens, t.capabilities, t.taskMask, t.memoryMb, t.maxInflight),
    );
    if (t.kind === 0) x.targetSetLoaded(i, t.loaded ? 1 : 0);
  });
}
