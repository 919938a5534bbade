import { DEFAULT_TIER } from "./key-record.js";

export const ENV_KEYS_NAME = "GATEWAY_API_KEYS";

/** RFC 6750 section 2.1 b64token: the characters a key can have and still travel as a bearer token. */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const TIER_NAME = /^[^\s,:]+$/;

export interface EnvKey {
  id: string;
  tier: string;
  /** 1-based position in the comma-separated list, for messages that must not quote the key. */
  entry: number;
  key: string;
}

export class KeyringError extends Error {
  override name = "KeyringError";
}

/**
 * Parses `GATEWAY_API_KEYS`: comma-separated `key` or `key:tier`, whitespace around items ignored,
 * empty items skipped (a trailing comma is harmless). A key must be an RFC 6750 b64token (no colon,
 * comma or space), since that is all a bearer header can carry; a key that could never authenticate
 * stops start-up instead. Ids are `env-1`, `env-2`, ... in order. Errors name the entry by position
 * and never quote the key.
 */
export function parseEnvKeys(value: string): EnvKey[] {
  const keys: EnvKey[] = [];
  const items = value.split(",");
  for (let i = 0; i < items.length; i++) {
    const item = items[i]?.trim() ?? "";
    if (item === "") continue;
    const entry = i + 1;
    const colon = item.lastIndexOf(":");
    const key = (colon < 0 ? item : item.slice(0, colon)).trim();
    const tier = colon < 0 ? DEFAULT_TIER : item.slice(colon + 1).trim();
    const where = `${ENV_KEYS_NAME} entry ${entry}`;
    if (key === "") throw new KeyringError(`${where} has no key before ':' (expected key or key:tier)`);
    if (tier === "")
      throw new KeyringError(`${where} has an empty tier after ':' (expected key or key:tier)`);
    if (!TIER_NAME.test(tier))
      throw new KeyringError(`${where} has a tier with spaces, commas or colons in it`);
    if (!BEARER_TOKEN.test(key)) {
      throw new KeyringError(
        `${where}: the key has characters a bearer token cannot carry (allowed: letters, digits, - . _ ~ + / and trailing =)`,
      );
    }
    keys.push({ id: `env-${keys.length + 1}`, tier, entry, key });
  }
  return keys;
}
