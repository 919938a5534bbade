// The policy core's whole boundary: numbers in, numbers out. See README.md beside this file for
// every export's units and codes.

import "./abort";
export { limiterTier, limiterInit, allow, settle, limiterRetryAfterMs, limiterRemaining, limiterResetMs, limiterClients, limiterIdleMs } from "./rate-limiter";
export { targetsInit, targetConfigure, targetSetLoaded, targetInflight } from "./targets";
export { healthConfigure, targetStart, targetEnd, targetCircuit, targetLatencyMs, targetErrorRate } from "./health";
export { routerConfigure, setCloudReachable, setMemoryFreeMb, route, routeAt } from "./router";
export { retryConfigure, retryDelayMs, retryClassify, retryMaxAttempts } from "./retry";
export { prngSeed as seed } from "./prng";
export { selftest } from "./selftest";
