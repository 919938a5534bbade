import type { Readable } from "node:stream";
import { collectBytes } from "../../http/collect.js";
import { ProviderError } from "../types.js";

/** undici's response body as far as we use it: a byte stream we can cut off. */
export interface UpstreamBody extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
}

/** types.ts promises at most this much of an error body: enough for any JSON error, bounded for a hostile one. */
export const ERROR_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Reads an error body up to the limit, then destroys the stream so an endless or huge body costs
 * nothing more. A body that breaks off yields what arrived: the status is the news, not the body.
 */
export async function readErrorBody(
  body: UpstreamBody,
  limitBytes = ERROR_BODY_LIMIT_BYTES,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let sizeBytes = 0;
  try {
    for await (const chunk of body) {
      const room = limitBytes - sizeBytes;
      chunks.push(chunk.byteLength > room ? chunk.subarray(0, room) : chunk);
      sizeBytes += Math.min(chunk.byteLength, room);
      if (sizeBytes >= limitBytes) break;
    }
  } catch {
    // Keep the bytes that did arrive.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The 2xx body as types.ts wants it: raw bytes as they come, errors mapped to ProviderError, and
 * `onEnd` called exactly when the call is over (end, error, or the consumer stopping early). Stopping
 * early destroys the body, which makes undici close the connection: the upstream sees the client go
 * and can stop generating.
 */
export function byteStream(
  body: UpstreamBody,
  mapError: (err: unknown) => ProviderError,
  onEnd: () => void,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const source = body[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const step = await source.next();
            if (step.done) onEnd();
            return step;
          } catch (err) {
            const mapped = mapError(err);
            onEnd();
            throw mapped;
          }
        },
        async return() {
          onEnd();
          body.destroy();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * The whole 2xx body (see collectBytes): errors mapped to ProviderError, more than `limitBytes` a
 * "protocol" error that destroys the body, and `onEnd` called exactly once when it is over either way.
 */
export async function readAllBytes(
  body: Readable,
  limitBytes: number,
  mapError: (err: unknown) => ProviderError,
  onEnd: () => void,
): Promise<Uint8Array> {
  let bytes: Buffer | "too_large";
  try {
    bytes = await collectBytes(body, limitBytes);
  } catch (err) {
    throw mapError(err);
  } finally {
    onEnd();
  }
  if (bytes === "too_large") {
    // Destroying makes undici emit an abort error nobody is waiting for any more.
    body.on("error", () => undefined);
    body.destroy();
    throw new ProviderError("protocol", `upstream answer larger than ${limitBytes} bytes`);
  }
  return bytes;
}
