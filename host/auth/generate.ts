import { createHash, randomBytes } from "node:crypto";
import { type ApiKeyConfigInput, apiKeyConfigSchema } from "./config.js";

export const API_KEY_PREFIX = "egw_";
const KEY_BYTES = 32;

/**
 * A new API key: the prefix (so secret scanners and people recognise it) and 256 random bits as
 * base64url, with its SHA-256 for the config file. Show the key once; store only the hash.
 */
export function generateApiKey(): { key: string; sha256: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(KEY_BYTES).toString("base64url")}`;
  return { key, sha256: createHash("sha256").update(key, "utf8").digest("hex") };
}

/**
 * The YAML lines for one key, indented to paste under `auth:` / `  keys:`. Strings are quoted
 * (as JSON, which YAML reads) because an id such as `123` or a hash of only digits would otherwise
 * be read as a number. Throws on an entry the config schema would reject.
 */
export function formatKeyConfigLine(entry: ApiKeyConfigInput): string {
  const { id, sha256, tier, scopes } = apiKeyConfigSchema.parse(entry);
  return [
    `    - id: ${JSON.stringify(id)}`,
    `      sha256: ${JSON.stringify(sha256.toLowerCase())}`,
    `      tier: ${JSON.stringify(tier)}`,
    `      scopes: [${scopes.join(", ")}]`,
  ].join("\n");
}
