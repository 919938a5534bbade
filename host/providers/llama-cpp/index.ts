export { createLlamaCppProvider, type LlamaCppProviderOptions } from "./provider.js";
export { type ChatCall, type SamplingDefaults, toChatCall } from "./request.js";
