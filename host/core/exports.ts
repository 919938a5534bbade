// The raw exports of build/core.wasm, as documented in assembly/README.md.

export interface CoreExports {
  memory: WebAssembly.Memory;
  limiterTier(tier: number, rpm: number, reqBurst: number, tpm: number, tokBurst: number): number;
  limiterInit(capacity: number, idleMs: number): number;
  allow(lo: number, hi: number, tier: number, estimatedTokens: number, nowMs: number): number;
  settle(lo: number, hi: number, deltaTokens: number, nowMs: number): number;
  limiterRetryAfterMs(): number;
  limiterRemaining(): number;
  limiterResetMs(): number;
  limiterClients(): number;
  limiterIdleMs(): number;
  targetsInit(count: number): number;
  targetConfigure(
    t: number,
    kind: number,
    contextTokens: number,
    capMask: number,
    taskMask: number,
    memNeedMb: number,
    maxInflight: number,
  ): number;
  targetSetLoaded(t: number, loaded: number): number;
  targetInflight(t: number): number;
  healthConfigure(
    alpha: number,
    halfLifeMs: number,
    prior: number,
    failures: number,
    openRate: number,
    minVolume: number,
    openMs: number,
    maxOpenMs: number,
    probes: number,
  ): number;
  targetStart(t: number, nowMs: number): number;
  targetEnd(t: number, ticket: number, outcome: number, latencyMs: number, nowMs: number): number;
  targetCircuit(t: number, nowMs: number): number;
  targetLatencyMs(t: number): number;
  targetErrorRate(t: number, nowMs: number): number;
  routerConfigure(
    defaultLatencyMs: number,
    errorPenaltyMs: number,
    cloudPenaltyMs: number,
    loadPenaltyMs: number,
    mismatchPenaltyMs: number,
    saturatedPenaltyMs: number,
  ): number;
  setCloudReachable(reachable: number): void;
  setMemoryFreeMb(mb: number): void;
  route(
    promptTokens: number,
    maxTokens: number,
    taskClass: number,
    priority: number,
    flags: number,
    needCaps: number,
    nowMs: number,
  ): number;
  routeAt(i: number): number;
  retryConfigure(baseMs: number, capMs: number, maxAttempts: number): number;
  retryDelayMs(attempt: number, retryAfterMs: number): number;
  retryClassify(status: number, attempts: number): number;
  retryMaxAttempts(): number;
  seed(lo: number, hi: number): void;
  selftest(): number;
}

/** route() packs decision | reason << 8 | candidates << 16. */
export function unpackRoute(packed: number): { decision: number; reason: number; candidates: number } {
  return { decision: packed & 0xff, reason: (packed >>> 8) & 0xff, candidates: (packed >>> 16) & 0xff };
}
