export { type McpConfig, mcpConfigSchema, type UpstreamConfig } from "./config.js";
export { McpGateway, type McpGatewayOptions } from "./gateway.js";
export type { ChatAnswer, ChatFunction } from "./gateway-tools.js";
export { mcpHandler, mcpOriginGuard } from "./route.js";
