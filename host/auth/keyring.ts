import { createHash, timingSafeEqual } from "node:crypto";
import { type ApiKeyConfigInput, apiKeyConfigSchema } from "./config.js";
import { ENV_KEYS_NAME, KeyringError, parseEnvKeys } from "./env-keys.js";
import { createKeyRecord, DEFAULT_SCOPES, type KeyRecord } from "./key-record.js";

export interface KeyringOptions {
  /** The raw `GATEWAY_API_KEYS` value; hashed here and not kept. */
  envKeys?: string;
  /** `auth.keys` from the config file. */
  keys?: readonly ApiKeyConfigInput[];
}

export interface Keyring {
  /** Number of keys; 0 means the gateway runs without authentication (loopback only). */
  readonly size: number;
  /** The record whose key hashes to the same SHA-256 as `token`, or undefined. */
  authenticate(token: string): KeyRecord | undefined;
  /** Every record, for start-up checks such as "is each key's tier configured". */
  records(): readonly KeyRecord[];
}

interface Entry {
  digest: Buffer;
  record: KeyRecord;
  /** Where the key came from, for duplicate errors. */
  origin: string;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * Builds the keyring from the environment string and the config file. Only SHA-256 digests are
 * kept: a heap dump or a debugger shows no key. Duplicate ids or keys stop start-up.
 */
export function createKeyring({ envKeys, keys = [] }: KeyringOptions = {}): Keyring {
  const entries: Entry[] = [];
  const byId = new Map<string, Entry>();
  const byDigest = new Map<string, Entry>();

  function add(entry: Entry): void {
    const sameId = byId.get(entry.record.id);
    if (sameId)
      throw new KeyringError(`${entry.origin} has id '${entry.record.id}', already used by ${sameId.origin}`);
    const hex = entry.digest.toString("hex");
    const sameKey = byDigest.get(hex);
    if (sameKey) throw new KeyringError(`${entry.origin} is the same key as ${sameKey.origin}`);
    byId.set(entry.record.id, entry);
    byDigest.set(hex, entry);
    entries.push(entry);
  }

  for (const env of parseEnvKeys(envKeys ?? "")) {
    add({
      digest: sha256(env.key),
      record: createKeyRecord(env.id, env.tier, DEFAULT_SCOPES),
      origin: `${ENV_KEYS_NAME} entry ${env.entry}`,
    });
  }
  keys.forEach((raw, i) => {
    const origin = `auth.keys[${i}]`;
    const parsed = apiKeyConfigSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.length ? `.${issue.path.join(".")}` : "";
      throw new KeyringError(`${origin}${path}: ${issue?.message ?? "invalid key entry"}`);
    }
    const { id, sha256: hex, tier, scopes, asyncWhenOffline } = parsed.data;
    add({
      digest: Buffer.from(hex, "hex"),
      record: createKeyRecord(id, tier, scopes, asyncWhenOffline),
      origin,
    });
  });

  const records = Object.freeze(entries.map((e) => e.record));

  return {
    size: entries.length,
    authenticate(token: string): KeyRecord | undefined {
      if (typeof token !== "string" || entries.length === 0) return undefined;
      const presented = sha256(token);
      let found: KeyRecord | undefined;
      // Every digest is compared, match or not, so the time taken says nothing about which key (or
      // how early in the list) matched. Digests all have the same length, as timingSafeEqual needs.
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, presented)) found = entry.record;
      }
      return found;
    },
    records: () => records,
  };
}
