import type { Context } from "hono";
import { ProviderError } from "../providers/types.js";
import type { Execution } from "../routing/executor.js";
import { SseUsageScanner, type Usage } from "./usage.js";

type Streaming = Extract<Execution, { kind: "stream" }>;

const encoder = new TextEncoder();

/** The SSE event that ends a stream whose upstream broke off after the first token. */
function errorEvent(error: unknown): Uint8Array {
  const kind = error instanceof ProviderError ? error.kind : "protocol";
  const message =
    kind === "timeout"
      ? "The target stopped answering mid-stream."
      : "The target's stream broke off before it finished.";
  const body = {
    error: {
      message,
      type: "server_error",
      code: kind === "timeout" ? "upstream_timeout" : "upstream_error",
    },
  };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/**
 * Passes the upstream's SSE bytes to the client as they arrive. A failure after the first chunk
 * ends the stream with an error event; a client that goes away aborts the upstream call.
 */
export function streamResponse(
  c: Context,
  served: Streaming,
  controller: AbortController,
  onEnd: (usage: Usage | undefined) => void,
): Response {
  const scanner = new SseUsageScanner();
  scanner.push(served.first);
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    served.finish(error);
    onEnd(scanner.usage);
  };
  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      ctrl.enqueue(served.first);
    },
    async pull(ctrl) {
      try {
        const r = await served.rest.next();
        if (r.done) {
          end();
          ctrl.close();
          return;
        }
        scanner.push(r.value);
        ctrl.enqueue(r.value);
      } catch (error) {
        if (controller.signal.aborted) {
          end(new ProviderError("aborted", "client went away"));
          ctrl.close();
          return;
        }
        end(error);
        ctrl.enqueue(errorEvent(error));
        ctrl.close();
      }
    },
    cancel() {
      controller.abort(new Error("client went away"));
      end(new ProviderError("aborted", "client went away"));
      void served.rest.return?.();
    },
  });
  return c.body(body, served.status as 200, {
    "content-type": served.headers["content-type"] ?? "text/event-stream",
    "cache-control": "no-cache",
    // Proxies in front of the gateway must not buffer the stream either.
    "x-accel-buffering": "no",
  });
}
