import type { Readable } from "node:stream";
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
 * The whole 2xx body, collected with listeners rather than an async iterator (several promises per
 * chunk): errors mapped to ProviderError, more than `limitBytes` a "protocol" error that destroys the
 * body, and `onEnd` called exactly once when it is over either way.
 */
export function readAllBytes(
  body: Readable,
  limitBytes: number,
  mapError: (err: unknown) => ProviderError,
  onEnd: () => void,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let size = 0;
    const settle = () => {
      body.off("data", onData);
      body.off("end", onEndEvent);
      body.off("error", onError);
      body.off("close", onClose);
      onEnd();
    };
    const fail = (error: ProviderError) => {
      settle();
      reject(error);
    };
    const onData = (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > limitBytes) {
        fail(new ProviderError("protocol", `upstream answer larger than ${limitBytes} bytes`));
        // Destroying makes undici emit an abort error nobody is waiting for any more.
        body.on("error", () => undefined);
        body.destroy();
        return;
      }
      parts.push(chunk);
    };
    const onEndEvent = () => {
      settle();
      resolve(parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, size));
    };
    const onError = (err: Error) => fail(mapError(err));
    // Closed without 'end' or 'error' (destroyed from outside): the answer is incomplete.
    const onClose = () => {
      if (!body.readableEnded) fail(mapError(new Error("upstream body closed before its end")));
    };
    body.on("data", onData);
    body.on("end", onEndEvent);
    body.on("error", onError);
    body.on("close", onClose);
  });
}
