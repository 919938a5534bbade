export { openaiRoutes } from "./routes.js";
export type { OpenAIDeps, OpenAIEnv } from "./serve.js";
