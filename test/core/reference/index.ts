// A pure-TypeScript model of the policy core with the same numeric surface as build/core.wasm, so
// property tests can drive both with one operation sequence and compare every answer.

import type { CoreExports } from "../../../host/core/exports.js";
import { ReferenceLimiter } from "./limiter.js";
import { ReferenceRetry } from "./retry.js";
import { ReferenceTargets } from "./targets.js";

export type CoreSurface = Omit<CoreExports, "memory" | "selftest">;

export function createReference(): CoreSurface {
  const l = new ReferenceLimiter();
  const t = new ReferenceTargets();
  const r = new ReferenceRetry();
  return {
    limiterTier: (...a) => l.limiterTier(...a),
    limiterInit: (...a) => l.limiterInit(...a),
    allow: (...a) => l.allow(...a),
    settle: (...a) => l.settle(...a),
    limiterRetryAfterMs: () => l.retryAfterMs,
    limiterRemaining: () => l.remaining,
    limiterResetMs: () => l.resetMs,
    limiterClients: () => l.clientCount(),
    limiterIdleMs: () => l.effectiveIdleMs(),
    targetsInit: (...a) => t.targetsInit(...a),
    targetConfigure: (...a) => t.targetConfigure(...a),
    targetSetLoaded: (...a) => t.targetSetLoaded(...a),
    targetInflight: (...a) => t.targetInflight(...a),
    healthConfigure: (...a) => t.healthConfigure(...a),
    targetStart: (...a) => t.targetStart(...a),
    targetEnd: (...a) => t.targetEnd(...a),
    targetCircuit: (...a) => t.targetCircuit(...a),
    targetLatencyMs: (...a) => t.targetLatencyMs(...a),
    targetErrorRate: (...a) => t.targetErrorRate(...a),
    routerConfigure: (...a) => t.routerConfigure(...a),
    setCloudReachable: (...a) => t.setCloudReachable(...a),
    setMemoryFreeMb: (...a) => t.setMemoryFreeMb(...a),
    route: (...a) => t.route(...a),
    routeAt: (...a) => t.routeAt(...a),
    retryConfigure: (...a) => r.retryConfigure(...a),
    retryDelayMs: (...a) => r.retryDelayMs(...a),
    retryClassify: (...a) => r.retryClassify(...a),
    retryMaxAttempts: () => r.retryMaxAttempts(),
    seed: (...a) => r.seed(...a),
  };
}
