export { ConfigError, type ConfigIssue, formatConfigIssue } from "./errors.js";
export { type LoadConfigOptions, loadConfig } from "./load.js";
export {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_DATA_DIR,
  DEFAULT_HOST,
  DEFAULT_PORT,
  type GatewayConfig,
  type GatewayConfigInput,
  gatewayConfigSchema,
  LOG_LEVELS,
  type LogLevel,
} from "./schema.js";
export { ENV_ALIASES, ENV_CONFIG_FILE, FLAG_PATHS } from "./sources.js";
