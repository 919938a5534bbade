export { DEFAULT_ENDPOINTS, type OpenAICompatibleOptions } from "./options.js";
export { createOpenAICompatibleProvider } from "./provider.js";
export { parseRetryAfterMs } from "./retry-after.js";
