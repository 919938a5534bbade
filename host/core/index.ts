export { clientHash } from "./client-hash.js";
export * from "./codes.js";
export type { CoreConfig, TierConfig } from "./config.js";
export { coreConfigSchema, MAX_TARGETS, MAX_TIERS } from "./config.js";
export type { TargetSpec } from "./configure.js";
export { Core, type CoreOptions, defaultWasmPath, type RouteRequest, type RouteResult } from "./core.js";
export { CoreStats } from "./stats.js";
