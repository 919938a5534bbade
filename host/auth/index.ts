export {
  API_KEY_ID_PATTERN,
  type ApiKeyConfig,
  type ApiKeyConfigInput,
  apiKeyConfigSchema,
} from "./config.js";
export { BEARER_TOKEN, ENV_KEYS_NAME, type EnvKey, KeyringError, parseEnvKeys } from "./env-keys.js";
export { API_KEY_PREFIX, formatKeyConfigLine, generateApiKey } from "./generate.js";
export {
  ANONYMOUS_ID,
  createAnonymousRecord,
  createKeyRecord,
  DEFAULT_SCOPES,
  DEFAULT_TIER,
  type KeyRecord,
  SCOPES,
  type Scope,
} from "./key-record.js";
export { createKeyring, type Keyring, type KeyringOptions } from "./keyring.js";
export { isLoopbackHost } from "./loopback.js";
export { type AuthOptions, type AuthVariables, authMiddleware } from "./middleware.js";
