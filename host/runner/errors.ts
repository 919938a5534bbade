import { ProviderError } from "../providers/types.js";
import type { RunnerErrorCode } from "./protocol.js";

/** OpenAI's error body, so an OpenAI client shows the runner's refusal the way it shows the cloud's. */
export function openAIErrorBody(message: string, type: string, code: string): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

/** An HTTP-like refusal: the router treats 4xx as the client's mistake and 5xx as a reason to fail over. */
export function runnerHttpError(
  status: number,
  message: string,
  code: string,
  retryAfterMs?: number,
): ProviderError {
  const type = status < 500 ? "invalid_request_error" : "server_error";
  return new ProviderError("http", message, {
    status,
    body: openAIErrorBody(message, type, code),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** A generation's error message from the child, as the router should see it. */
export function childError(modelId: string, code: RunnerErrorCode, message: string): ProviderError {
  switch (code) {
    case "invalid_request":
    case "context_length_exceeded":
      return runnerHttpError(400, message, code);
    case "not_loaded":
    case "busy":
      return runnerHttpError(503, `model ${modelId}: ${message}`, "model_unavailable", 1_000);
    default:
      return runnerHttpError(500, `model ${modelId}: ${message}`, "runner_error");
  }
}
