import { z } from "zod";
import { DEFAULT_SCOPES, DEFAULT_TIER, SCOPES } from "./key-record.js";

/** Ids appear in logs and metrics labels, so they are kept to a small, safe alphabet. */
export const API_KEY_ID_PATTERN = /^[\w.-]{1,64}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * One key in the config file's `auth.keys`. The file holds the SHA-256 of the key, never the key,
 * so a leaked config does not leak access. `edge-gateway keys create` prints an entry.
 */
export const apiKeyConfigSchema = z
  .object({
    id: z
      .string()
      .regex(API_KEY_ID_PATTERN, { error: "expected 1-64 letters, digits, '_', '.' or '-'" })
      .describe("Names the key in logs and metrics: 1-64 letters, digits, '_', '.' or '-'."),
    sha256: z
      .string()
      .regex(SHA256_HEX, { error: "expected the key's SHA-256 as 64 hex characters" })
      .describe("The key's SHA-256 as 64 hex characters; the key itself is never stored."),
    tier: z
      .string()
      .min(1, { error: "expected a tier name from core.limiter.tiers" })
      .default(DEFAULT_TIER)
      .describe("Rate-limit tier, a name from `core.limiter.tiers`."),
    scopes: z
      .array(z.enum(SCOPES, { error: `expected one of ${SCOPES.join(", ")}` }))
      .min(1, { error: "expected at least one scope" })
      .default([...DEFAULT_SCOPES])
      .describe(
        "What the key may use. `admin` (any client's queue items) is never a default: name it to grant it.",
      ),
    asyncWhenOffline: z
      .boolean()
      .default(false)
      .describe("Queue this key's cloud-bound requests while the cloud is unreachable (202 instead of 503)."),
  })
  .strict();

export type ApiKeyConfig = z.infer<typeof apiKeyConfigSchema>;
export type ApiKeyConfigInput = z.input<typeof apiKeyConfigSchema>;
