import { clientHash } from "../core/client-hash.js";

export const SCOPES = ["chat", "mcp", "queue", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes a key gets unless the config names others. Admin is never a default: it must be explicit. */
export const DEFAULT_SCOPES: readonly Scope[] = ["chat", "mcp", "queue"];
export const DEFAULT_TIER = "default";
export const ANONYMOUS_ID = "anonymous";

/** An authenticated client. Holds no secret: only the id, the tier, the scopes and the core's hash. */
export interface KeyRecord {
  readonly id: string;
  readonly tier: string;
  readonly scopes: ReadonlySet<Scope>;
  /** clientHash(id), computed once here because the rate limiter needs it on every request. */
  readonly lo: number;
  readonly hi: number;
  /** Queue this key's cloud-bound requests while the cloud is unreachable, without `Prefer: respond-async`. */
  readonly asyncWhenOffline: boolean;
}

export function createKeyRecord(
  id: string,
  tier: string,
  scopes: Iterable<Scope>,
  asyncWhenOffline = false,
): KeyRecord {
  const [lo, hi] = clientHash(id);
  return Object.freeze({ id, tier, scopes: new Set(scopes), lo, hi, asyncWhenOffline });
}

/**
 * The client for requests when no key is configured, which the gateway only allows on loopback.
 * No admin scope by default: local processes of other users share the loopback address too.
 */
export function createAnonymousRecord(
  tier: string = DEFAULT_TIER,
  scopes: Iterable<Scope> = DEFAULT_SCOPES,
): KeyRecord {
  return createKeyRecord(ANONYMOUS_ID, tier, scopes);
}
